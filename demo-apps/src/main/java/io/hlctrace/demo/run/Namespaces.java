package io.hlctrace.demo.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The demo's executors as separate hosts on this machine: one network namespace and one cgroup v2
 * directory per executor, joined through a bridge in a hub namespace, addresses 10.203.N.1.. /24.
 * Every name carries the prefix {@code htd} and this process's id, so parallel runs do not collide;
 * {@link #close()} removes all of it, also after a failed setup.
 */
public final class Namespaces implements AutoCloseable {
    public static final Path CGROUP2 = Path.of("/sys/fs/cgroup/unified");

    private final String id;
    private final String hub;
    private final Map<String, String> namespaces = new LinkedHashMap<>();
    private final Map<String, String> addresses = new LinkedHashMap<>();
    private final Map<String, Path> cgroups = new LinkedHashMap<>();
    private final Map<String, Path> probedCgroups = new LinkedHashMap<>();
    private final List<String> created = new ArrayList<>();

    /** Creates one namespace + cgroup per executor name (single letters or short names). */
    public Namespaces(List<String> executors) throws IOException, InterruptedException {
        long pid = ProcessHandle.current().pid();
        this.id = Long.toString(pid % 100_000);
        this.hub = "htd" + id + "h";
        int subnet = (int) (pid % 250) + 1;
        try {
            sh("ip", "netns", "add", hub);
            created.add("netns " + hub);
            sh("ip", "-n", hub, "link", "add", "htd" + id + "br", "type", "bridge");
            sh("ip", "-n", hub, "link", "set", "htd" + id + "br", "up");
            int host = 1;
            for (String x : executors) {
                String tag = x.toLowerCase(java.util.Locale.ROOT);
                String ns = "htd" + id + tag;
                sh("ip", "netns", "add", ns);
                created.add("netns " + ns);
                namespaces.put(x, ns);
                String inside = "htd" + id + tag + "0", outside = "htd" + id + tag + "1";
                sh("ip", "link", "add", inside, "netns", ns, "type", "veth", "peer", "name", outside, "netns", hub);
                String addr = "10.203." + subnet + "." + host++;
                sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", inside);
                sh("ip", "-n", ns, "link", "set", "lo", "up");
                sh("ip", "-n", ns, "link", "set", inside, "up");
                sh("ip", "-n", hub, "link", "set", outside, "master", "htd" + id + "br");
                sh("ip", "-n", hub, "link", "set", outside, "up");
                addresses.put(x, addr);
                Path cg = CGROUP2.resolve("htd" + id + tag);
                Files.createDirectories(cg);
                created.add("cgroup " + cg);
                cgroups.put(x, cg);
                // a second cgroup for the executor's non-JVM processes: the kernel probe's target
                Path probed = CGROUP2.resolve("htd" + id + tag + "p");
                Files.createDirectories(probed);
                created.add("cgroup " + probed);
                probedCgroups.put(x, probed);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Whether this machine can run the namespace variant: root, cgroup v2 mounted, ip(8) and nsenter(1) present. */
    public static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) return "not running as root: network namespaces and cgroups need root";
        if (!Files.isDirectory(CGROUP2) || !Files.exists(CGROUP2.resolve("cgroup.procs"))) return "no cgroup v2 hierarchy at " + CGROUP2;
        try {
            sh("ip", "netns", "list");
            sh("nsenter", "--version");
        } catch (IOException | InterruptedException e) {
            return "ip netns or nsenter does not work here: " + e.getMessage();
        }
        return null;
    }

    public String address(String executor) { return addresses.get(executor); }
    public String namespace(String executor) { return namespaces.get(executor); }
    public Path cgroup(String executor) { return cgroups.get(executor); }
    public String subnetCidr() {
        String a = addresses.values().iterator().next();
        return a.substring(0, a.lastIndexOf('.')) + ".0/24";
    }

    /** The cgroup of the executor's processes that the kernel probe stamps (not the JVMs: the agent stamps those). */
    public Path probedCgroup(String executor) { return probedCgroups.get(executor); }

    /** Where this run pins its probes' BPF objects: under bpffs, with the htd prefix. */
    public Path pinRoot() { return Path.of("/sys/fs/bpf", "htd" + id); }

    /** The command prefix that runs a non-JVM program inside the executor's namespace, in the probed cgroup. */
    public List<String> probedWrapper(String executor) {
        return wrapper(executor, probedCgroups.get(executor));
    }

    /** The command prefix that runs a program inside the executor's namespace and cgroup. */
    public List<String> wrapper(String executor) {
        return wrapper(executor, cgroups.get(executor));
    }

    private List<String> wrapper(String executor, Path cgroup) {
        // nsenter enters only the network namespace; ip netns exec would also mount a fresh /sys, hiding the
        // host's cgroup hierarchy and bpffs (where the probe pins the executor clock). The pid stays the same.
        return List.of("sh", "-c", "cg=$0; ns=$1; shift; echo $$ > \"$cg/cgroup.procs\" && exec nsenter --net=/run/netns/\"$ns\" -- \"$@\"",
                cgroup.toString(), namespaces.get(executor));
    }

    static String sh(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", command));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) throw new IOException("'" + String.join(" ", command) + "' failed (exit " + p.exitValue() + "): " + out);
        return out;
    }

    /**
     * Removes the namespaces (their veths go with them) and the cgroups. Processes must have been
     * ended first; a cgroup that still holds one is reported, not left silently.
     */
    @Override
    public synchronized void close() {
        // synchronized: the demo's finally and its shutdown hook may both get here on Ctrl-C
        List<String> problems = new ArrayList<>();
        // the probes leave their clock pinned on purpose (a restarted daemon continues the clock); this run's pins go
        Path pins = pinRoot();
        if (Files.exists(pins)) {
            try {
                sh("rm", "-rf", pins.toString());
            } catch (IOException | InterruptedException e) {
                problems.add("pins " + pins + ": " + e.getMessage());
            }
        }
        for (int i = created.size() - 1; i >= 0; i--) {
            String what = created.get(i);
            try {
                if (what.startsWith("netns ")) sh("ip", "netns", "del", what.substring(6));
                else removeCgroup(Path.of(what.substring(7)));
            } catch (IOException | InterruptedException e) {
                problems.add(what + ": " + e.getMessage());
            }
        }
        created.clear();
        if (!problems.isEmpty()) System.err.println("hlctrace demo: clean-up left " + problems);
    }

    private static void removeCgroup(Path cg) throws IOException, InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.deleteIfExists(cg);
                return;
            } catch (IOException busy) {
                // processes still leaving the cgroup: give them a moment
                if (attempt >= 50) throw new IOException("cgroup " + cg + " still busy: " + Files.readString(cg.resolve("cgroup.procs")).strip().replace('\n', ' '));
                Thread.sleep(100);
            }
        }
    }
}
