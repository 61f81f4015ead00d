package io.hlctrace.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two simulated hosts on this machine: network namespaces htq<id>a / htq<id>b joined by a veth
 * pair (10.204.N.1 and 10.204.N.2), each with its own cgroup v2 directory. Everything carries the
 * htq prefix and is removed by {@link #close()}, also after failures.
 */
final class NetLab implements AutoCloseable {
    static final Path CGROUP2 = ProbeConfig.CGROUP2_ROOT;
    final String id;
    final String nsA, nsB, vethA, vethB;
    final String ipA, ipB;
    /** IPv6 addresses of the same hosts (unique local addresses, never routed). */
    final String ip6A, ip6B;
    final Path cgroupA, cgroupB;
    private final List<Process> processes = new ArrayList<>();

    NetLab(int subnet) throws IOException, InterruptedException {
        id = Long.toString(ProcessHandle.current().pid() % 100000) + "s" + subnet;
        nsA = "htq" + id + "a";
        nsB = "htq" + id + "b";
        vethA = "htq" + id + "va";
        vethB = "htq" + id + "vb";
        ipA = "10.204." + subnet + ".1";
        ipB = "10.204." + subnet + ".2";
        ip6A = "fd00:204:" + subnet + "::1";
        ip6B = "fd00:204:" + subnet + "::2";
        cgroupA = CGROUP2.resolve("htq" + id + "a");
        cgroupB = CGROUP2.resolve("htq" + id + "b");
        try {
            sh("ip netns add " + nsA);
            sh("ip netns add " + nsB);
            sh("ip link add " + vethA + " type veth peer name " + vethB);
            sh("ip link set " + vethA + " netns " + nsA);
            sh("ip link set " + vethB + " netns " + nsB);
            sh("ip -n " + nsA + " addr add " + ipA + "/24 dev " + vethA);
            sh("ip -n " + nsB + " addr add " + ipB + "/24 dev " + vethB);
            sh("ip -n " + nsA + " -6 addr add " + ip6A + "/64 dev " + vethA + " nodad");
            sh("ip -n " + nsB + " -6 addr add " + ip6B + "/64 dev " + vethB + " nodad");
            for (String ns : List.of(nsA, nsB)) sh("ip -n " + ns + " link set lo up");
            sh("ip -n " + nsA + " link set " + vethA + " up");
            sh("ip -n " + nsB + " link set " + vethB + " up");
            Files.createDirectories(cgroupA);
            Files.createDirectories(cgroupB);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Runs a shell command on the host, failing with its output. */
    static String sh(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + command);
        }
        String out = new String(p.getInputStream().readAllBytes());
        if (p.exitValue() != 0) throw new IOException("'" + command + "' failed (" + p.exitValue() + "): " + out);
        return out;
    }

    /**
     * Starts a command inside a host: it joins the cgroup first (ip netns exec remounts /sys, so
     * the cgroup must be joined before), then enters the network namespace.
     */
    Process start(String ns, Path cgroup, String command, Path output) throws IOException {
        return startInCgroup(cgroup, "ip netns exec " + ns + " " + command, output);
    }

    /**
     * Like {@link #start}, but enters only the network namespace (nsenter) and keeps the host's
     * /sys, as a process of a real host would: ip netns exec remounts /sys, which hides the bpffs
     * pins at /sys/fs/bpf that an agent with a {@code bpf:} clock opens.
     */
    Process startWithHostSys(String ns, Path cgroup, String command, Path output) throws IOException {
        return startInCgroup(cgroup, "nsenter --net=/run/netns/" + ns + " " + command, output);
    }

    /** Runs {@code command} (which enters the namespace) in a shell that joined {@code cgroup} first. */
    private Process startInCgroup(Path cgroup, String command, Path output) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec " + command);
        pb.redirectErrorStream(true);
        pb.redirectOutput(output.toFile());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    Process startA(String command, Path output) throws IOException { return start(nsA, cgroupA, command, output); }

    Process startB(String command, Path output) throws IOException { return start(nsB, cgroupB, command, output); }

    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        quiet("ip netns del " + nsA);
        quiet("ip netns del " + nsB);
        for (Path cg : List.of(cgroupA, cgroupB)) {
            // processes must be gone before the cgroup can be removed; retry briefly
            for (int i = 0; i < 50 && Files.exists(cg); i++) {
                try {
                    Files.deleteIfExists(cg);
                } catch (IOException e) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    private static void quiet(String command) {
        try {
            sh(command);
        } catch (IOException | InterruptedException ignored) {
            // already gone
        }
    }
}
