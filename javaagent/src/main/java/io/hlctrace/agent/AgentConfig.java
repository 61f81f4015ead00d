package io.hlctrace.agent;

import io.hlctrace.hlc.DurationText;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/** The agent's YAML configuration (docs/javaagent.md, "Configuration"); every field has a default. */
public final class AgentConfig {
    public enum PortMode { AUTO, FRAMED, PLAIN }

    /**
     * What the agent does while the executor clock's unhealthy flag is set (clock-sync fail-stop);
     * the same values as clock-sync's {@code fail-mode} and the kernel probe's {@code fail_mode}.
     */
    public enum FailMode {
        /** Keep stamping; the events carry {@code "unhealthy":true}. */
        MARK_UNHEALTHY("mark-unhealthy"),
        /** Hand out no timestamps: messages go out without an HLC, their events are counted as dropped. */
        REFUSE("refuse");

        public final String yamlName;

        FailMode(String yamlName) { this.yamlName = yamlName; }
    }

    public static final Duration DEFAULT_MAX_OFFSET = Duration.ofMillis(500);
    /** Event log ring slots (about 68 bytes each, preallocated: 4.25 MiB). */
    public static final int DEFAULT_QUEUE_CAPACITY = 65_536;

    public String node;
    public String process;
    /** null = default mapped file; "local"; a path; "bpf:PATH"; "unix:PATH". */
    public String clock;
    public long skewOffsetNanos;
    public double skewDriftPpm;
    public Duration maxOffset = DEFAULT_MAX_OFFSET;
    public Path logDir = Path.of("hlctrace-logs");
    public int queueCapacity = DEFAULT_QUEUE_CAPACITY;
    public boolean failHard;
    public FailMode failMode = FailMode.MARK_UNHEALTHY;
    /** Where hooked classes are cached across JVMs: a directory, "off", or null for the default. */
    public String classCache;
    public boolean registry = true;
    public Path registryDir;
    public final List<PeerSelector> peers = new ArrayList<>();
    public final Map<Integer, PortMode> ports = new HashMap<>();
    /** Where the config came from, for messages. */
    public String source = "defaults (no config file)";

    /** A config that cannot be used: says where and why. */
    public static final class ConfigException extends Exception {
        public ConfigException(String message) { super(message); }
    }

    public static AgentConfig defaults() {
        AgentConfig c = new AgentConfig();
        c.node = defaultNode();
        return c;
    }

    static String defaultNode() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) return env;
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    /** Default location of the executor clock: shared by every JVM of the machine under one node id. */
    public Path defaultClockPath() {
        return Path.of("/dev/shm/hlctrace", node, "clock");
    }

    public static AgentConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read the hlctrace agent config " + file + ": " + e);
        }
        AgentConfig c = parse(text, file.toString());
        c.source = file.toString();
        return c;
    }

    public static AgentConfig parse(String text, String name) throws ConfigException {
        AgentConfig c = defaults();
        Node root;
        try (Reader r = new java.io.StringReader(text)) {
            root = new Yaml(new LoaderOptions()).compose(r);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : -1;
            throw new ConfigException(name + ":" + line + ": not valid YAML: " + e.getProblem());
        } catch (Exception e) {
            throw new ConfigException(name + ": not valid YAML: " + e.getMessage());
        }
        if (root == null) return c; // an empty file: all defaults
        if (!(root instanceof MappingNode map)) throw error(name, root, "the config must be a mapping of keys (node, clock, peers, ...)");
        for (NodeTuple t : map.getValue()) {
            String key = scalar(name, t.getKeyNode());
            Node v = t.getValueNode();
            switch (key) {
                case "node" -> c.node = nonEmpty(name, v);
                case "process" -> c.process = nonEmpty(name, v);
                case "clock" -> c.clock = nonEmpty(name, v);
                case "maxOffset" -> c.maxOffset = duration(name, v, false);
                case "logDir" -> c.logDir = Path.of(nonEmpty(name, v));
                case "queueCapacity" -> c.queueCapacity = (int) integer(name, v, 16, 1 << 24);
                case "failHard" -> c.failHard = bool(name, v);
                case "failMode" -> c.failMode = failMode(name, v);
                case "classCache" -> c.classCache = nonEmpty(name, v);
                case "registry" -> c.registry = bool(name, v);
                case "registryDir" -> c.registryDir = Path.of(nonEmpty(name, v));
                case "skew" -> parseSkew(c, name, v);
                case "peers" -> parsePeers(c, name, v);
                case "ports" -> parsePorts(c, name, v);
                default -> throw error(name, t.getKeyNode(), "unknown key '" + key
                        + "' (known: node, process, clock, skew, maxOffset, logDir, queueCapacity, peers, ports, registry, registryDir, classCache, failMode, failHard)");
            }
        }
        return c;
    }

    private static void parseSkew(AgentConfig c, String name, Node v) throws ConfigException {
        if (!(v instanceof MappingNode m)) throw error(name, v, "skew must be a mapping: {offset: -2h, driftPpm: 50}");
        for (NodeTuple t : m.getValue()) {
            String key = scalar(name, t.getKeyNode());
            switch (key) {
                case "offset" -> c.skewOffsetNanos = duration(name, t.getValueNode(), true).toNanos();
                case "driftPpm" -> {
                    try {
                        c.skewDriftPpm = Double.parseDouble(scalar(name, t.getValueNode()));
                    } catch (NumberFormatException e) {
                        throw error(name, t.getValueNode(), "driftPpm must be a number of parts per million");
                    }
                }
                default -> throw error(name, t.getKeyNode(), "unknown key '" + key + "' in skew (known: offset, driftPpm)");
            }
        }
    }

    private static void parsePeers(AgentConfig c, String name, Node v) throws ConfigException {
        if (!(v instanceof SequenceNode seq)) throw error(name, v, "peers must be a list of selectors, e.g. - {cidr: 10.77.0.0/16, ports: [8080]}");
        for (Node item : seq.getValue()) {
            if (!(item instanceof MappingNode m)) throw error(name, item, "a peer selector must be a mapping with hosts, cidrs and/or ports");
            List<String> hosts = new ArrayList<>();
            List<String> cidrs = new ArrayList<>();
            List<Integer> ports = new ArrayList<>();
            for (NodeTuple t : m.getValue()) {
                String key = scalar(name, t.getKeyNode());
                Node val = t.getValueNode();
                switch (key) {
                    case "host", "hosts" -> { for (Node n : listOf(val)) hosts.add(nonEmpty(name, n)); }
                    case "cidr", "cidrs" -> { for (Node n : listOf(val)) cidrs.add(nonEmpty(name, n)); }
                    case "port", "ports" -> { for (Node n : listOf(val)) ports.add((int) integer(name, n, 1, 65535)); }
                    default -> throw error(name, t.getKeyNode(), "unknown key '" + key + "' in a peer selector (known: hosts, cidrs, ports)");
                }
            }
            if (hosts.isEmpty() && cidrs.isEmpty() && ports.isEmpty()) throw error(name, item, "an empty peer selector would match every peer; name hosts, cidrs or ports");
            try {
                c.peers.add(new PeerSelector(hosts, cidrs, ports));
            } catch (IllegalArgumentException e) {
                throw error(name, item, e.getMessage());
            }
        }
    }

    private static void parsePorts(AgentConfig c, String name, Node v) throws ConfigException {
        if (!(v instanceof MappingNode m)) throw error(name, v, "ports must be a mapping of port: auto|framed|plain");
        for (NodeTuple t : m.getValue()) {
            int port = (int) integer(name, t.getKeyNode(), 1, 65535);
            String mode = scalar(name, t.getValueNode()).toLowerCase(Locale.ROOT);
            switch (mode) {
                case "auto" -> c.ports.put(port, PortMode.AUTO);
                case "framed" -> c.ports.put(port, PortMode.FRAMED);
                case "plain" -> c.ports.put(port, PortMode.PLAIN);
                default -> throw error(name, t.getValueNode(), "port mode must be auto, framed or plain, not '" + mode + "'");
            }
        }
    }

    private static List<Node> listOf(Node v) {
        return v instanceof SequenceNode s ? s.getValue() : List.of(v);
    }

    private static ConfigException error(String name, Node at, String why) {
        return new ConfigException(name + ":" + (at.getStartMark().getLine() + 1) + ": " + why);
    }

    private static String scalar(String name, Node n) throws ConfigException {
        if (!(n instanceof ScalarNode s)) throw error(name, n, "expected a single value here");
        return s.getValue().trim();
    }

    private static String nonEmpty(String name, Node n) throws ConfigException {
        String s = scalar(name, n);
        if (s.isEmpty()) throw error(name, n, "value must not be empty");
        return s;
    }

    private static boolean bool(String name, Node n) throws ConfigException {
        String s = scalar(name, n).toLowerCase(Locale.ROOT);
        return switch (s) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw error(name, n, "expected true or false, not '" + s + "'");
        };
    }

    private static FailMode failMode(String name, Node n) throws ConfigException {
        String s = scalar(name, n);
        for (FailMode m : FailMode.values()) {
            if (m.yamlName.equals(s)) return m;
        }
        throw error(name, n, "failMode must be mark-unhealthy or refuse (as clock-sync's fail-mode), not '" + s + "'");
    }

    private static long integer(String name, Node n, long min, long max) throws ConfigException {
        String s = scalar(name, n);
        try {
            long v = Long.parseLong(s);
            if (v < min || v > max) throw error(name, n, s + " is out of range [" + min + ", " + max + "]");
            return v;
        } catch (NumberFormatException e) {
            throw error(name, n, "expected an integer, not '" + s + "'");
        }
    }

    private static Duration duration(String name, Node n, boolean signed) throws ConfigException {
        String s = scalar(name, n);
        try {
            Duration d = parseDuration(s);
            if (!signed && d.isNegative()) throw error(name, n, "duration must not be negative: " + s);
            return d;
        } catch (IllegalArgumentException e) {
            throw error(name, n, e.getMessage());
        }
    }

    /** "500ms", "-2h", "1.5s", "0": a number and a unit (ns, us, ms, s, m, h). */
    public static Duration parseDuration(String s) {
        return DurationText.parse(s);
    }

    public PortMode modeFor(int port) {
        PortMode m = ports.get(port);
        return m == null ? PortMode.AUTO : m;
    }
}
