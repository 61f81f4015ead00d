package io.hlctrace.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Executors in network namespaces for the tests and the benchmark: one namespace per executor
 * (named {@code hts<lab><letter>}), each pair joined directly by a veth pair, and optionally each
 * joined to the root namespace for {@link UdpRelay}. Addresses are in 10.202.0.0/16. Everything is
 * removed by {@link #close()}, also after a failure.
 *
 * <pre>
 * direct link between executors i < j (1-based): 10.202.(10*i+j).1 in i, 10.202.(10*i+j).2 in j
 * relay link of executor i:  10.202.(base+i).1 in the root namespace, 10.202.(base+i).2 in i
 * </pre>
 */
public final class NetnsLab implements AutoCloseable {
    public static final int SYNC_PORT = 7400;
    private final String id;
    private final List<String> nodes;
    private final Path dir;
    private final int relayBase;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> rootLinks = new ArrayList<>();
    private final Map<String, Process> daemons = new LinkedHashMap<>();

    /** Why namespaces cannot be used here, or null when they can. */
    public static String unavailableReason() {
        try {
            Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String uid = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor(5, TimeUnit.SECONDS);
            if (!uid.equals("0")) return "network-namespace tests need root (ip netns add, veth pairs); running as uid " + uid;
            if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip")) && !Files.isExecutable(Path.of("/usr/bin/ip"))) {
                return "network-namespace tests need the ip command (Debian package iproute2)";
            }
            return null;
        } catch (IOException | InterruptedException e) {
            return "cannot check for root: " + e.getMessage();
        }
    }

    public NetnsLab(List<String> nodes, Path dir, boolean relayLinks) throws IOException {
        this.id = String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));
        this.nodes = List.copyOf(nodes);
        this.dir = dir;
        this.relayBase = 100 + ThreadLocalRandom.current().nextInt(140);
        try {
            for (String n : nodes) {
                String ns = ns(n);
                sh("ip", "netns", "add", ns);
                namespaces.add(ns);
                sh("ip", "-n", ns, "link", "set", "lo", "up");
            }
            for (int i = 1; i <= nodes.size(); i++) {
                for (int j = i + 1; j <= nodes.size(); j++) {
                    String a = "hts" + id + i + j;
                    String b = "hts" + id + j + i;
                    sh("ip", "link", "add", a, "netns", ns(nodes.get(i - 1)), "type", "veth", "peer", "name", b, "netns", ns(nodes.get(j - 1)));
                    String net = "10.202." + (10 * i + j) + ".";
                    sh("ip", "-n", ns(nodes.get(i - 1)), "addr", "add", net + "1/24", "dev", a);
                    sh("ip", "-n", ns(nodes.get(j - 1)), "addr", "add", net + "2/24", "dev", b);
                    sh("ip", "-n", ns(nodes.get(i - 1)), "link", "set", a, "up");
                    sh("ip", "-n", ns(nodes.get(j - 1)), "link", "set", b, "up");
                }
            }
            if (relayLinks) {
                for (int i = 1; i <= nodes.size(); i++) {
                    String root = "hts" + id + "r" + i;
                    String inner = "hts" + id + "x" + i;
                    sh("ip", "link", "add", root, "type", "veth", "peer", "name", inner, "netns", ns(nodes.get(i - 1)));
                    rootLinks.add(root);
                    String net = "10.202." + (relayBase + i) + ".";
                    sh("ip", "addr", "add", net + "1/24", "dev", root);
                    sh("ip", "-n", ns(nodes.get(i - 1)), "addr", "add", net + "2/24", "dev", inner);
                    sh("ip", "link", "set", root, "up");
                    sh("ip", "-n", ns(nodes.get(i - 1)), "link", "set", inner, "up");
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public String ns(String node) { return "hts" + id + node; }

    private int index(String node) {
        int i = nodes.indexOf(node);
        if (i < 0) throw new IllegalArgumentException("no executor " + node);
        return i + 1;
    }

    /** The address of {@code to} on the direct link from {@code from}. */
    public String directAddress(String from, String to) {
        int i = index(from), j = index(to);
        return i < j ? "10.202." + (10 * i + j) + ".2" : "10.202." + (10 * j + i) + ".1";
    }

    /** Address of executor {@code node} on its link to the root namespace. */
    public String relayInnerAddress(String node) { return "10.202." + (relayBase + index(node)) + ".2"; }

    /** Address of the root namespace's end of {@code node}'s relay link. */
    public String relayRootAddress(String node) { return "10.202." + (relayBase + index(node)) + ".1"; }

    /** Sets all links of {@code node} down (a partition leaving it alone) or up again. */
    public void links(String node, boolean up) throws IOException {
        int i = index(node);
        for (int j = 1; j <= nodes.size(); j++) {
            if (j == i) continue;
            sh("ip", "-n", ns(node), "link", "set", "hts" + id + i + j, up ? "up" : "down");
        }
    }

    /** Starts a SyncMain daemon in the node's namespace; its output goes to {@code <dir>/<node>.out}. */
    public Process startDaemon(String node, List<String> args, List<String> jvmOptions) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns(node),
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", testClassPath(), "io.hlctrace.sync.SyncMain"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(node + ".out").toFile()).start();
        daemons.put(node, p);
        return p;
    }

    /** Stops a daemon with SIGTERM (its shutdown hook finishes the event log), killing it after 10 s. */
    public void stopDaemon(String node) throws InterruptedException {
        Process p = daemons.remove(node);
        if (p == null) return;
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Daemon output of every node, for failure messages. */
    public String outputs() {
        StringBuilder sb = new StringBuilder();
        for (String n : nodes) {
            Path f = dir.resolve(n + ".out");
            try {
                if (Files.exists(f)) {
                    String s = Files.readString(f);
                    sb.append("--- ").append(n).append(" ---\n").append(s.length() > 4000 ? s.substring(s.length() - 4000) : s);
                }
            } catch (IOException e) {
                sb.append("(cannot read ").append(f).append(")\n");
            }
        }
        return sb.toString();
    }

    static String testClassPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    @Override
    public void close() {
        for (String n : new ArrayList<>(daemons.keySet())) {
            try {
                stopDaemon(n);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String l : rootLinks) quiet("ip", "link", "del", l);
        for (String ns : namespaces) quiet("ip", "netns", "del", ns);
    }

    private static void quiet(String... cmd) {
        try {
            sh(cmd);
        } catch (IOException | RuntimeException e) {
            System.err.println("cleanup: " + e.getMessage());
        }
    }

    static String sh(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": timed out");
            }
            if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.strip());
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd), e);
        }
    }
}
