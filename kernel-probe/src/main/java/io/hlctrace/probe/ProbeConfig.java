package io.hlctrace.probe;

import io.hlctrace.hlc.DurationText;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.hlctrace.sync.SyncConfig.FailMode;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * probe.yml: one executor's probe daemon (docs/kernel-probe.md has an annotated example).
 * Errors name the file, line and key, and say what is expected.
 */
public record ProbeConfig(
        String executor,
        Path pinRoot,
        Path eventLog,
        Path clockSocket,
        Duration maxOffset,
        int ringBufferKib,
        long skewOffsetNanos,
        double skewDriftPpm,
        List<Path> cgroups,
        List<Integer> pids,
        DockerTargets docker,
        Map<String, Object> sync,
        List<Path> optionOnlyCgroups,
        List<Integer> optionOnlyPids,
        FailMode failMode) {

    /** Targets whose messages are logged, no option-only targets, fail_mode mark-unhealthy. */
    public ProbeConfig(String executor, Path pinRoot, Path eventLog, Path clockSocket, Duration maxOffset, int ringBufferKib,
            long skewOffsetNanos, double skewDriftPpm, List<Path> cgroups, List<Integer> pids, DockerTargets docker, Map<String, Object> sync) {
        this(executor, pinRoot, eventLog, clockSocket, maxOffset, ringBufferKib, skewOffsetNanos, skewDriftPpm, cgroups, pids, docker, sync,
                List.of(), List.of(), FailMode.MARK_UNHEALTHY);
    }

    /** A copy with other option-only targets. */
    public ProbeConfig withOptionOnly(List<Path> cgroups, List<Integer> pids) {
        return new ProbeConfig(executor, pinRoot, eventLog, clockSocket, maxOffset, ringBufferKib, skewOffsetNanos, skewDriftPpm,
                this.cgroups, this.pids, docker, sync, List.copyOf(cgroups), List.copyOf(pids), failMode);
    }

    /** A copy with another fail mode. */
    public ProbeConfig withFailMode(FailMode mode) {
        return new ProbeConfig(executor, pinRoot, eventLog, clockSocket, maxOffset, ringBufferKib, skewOffsetNanos, skewDriftPpm,
                cgroups, pids, docker, sync, optionOnlyCgroups, optionOnlyPids, mode);
    }

    public static final Path DEFAULT_PIN_ROOT = Path.of("/sys/fs/bpf/hlctrace");
    public static final Path CGROUP2_ROOT = Path.of("/sys/fs/cgroup/unified");
    public static final Duration DEFAULT_MAX_OFFSET = Duration.ofMillis(500);

    /** Docker containers to follow: by name or by label (key=value), through the Engine API socket. */
    public record DockerTargets(Path socket, List<String> names, List<String> labels) {
        public boolean any() { return !names.isEmpty() || !labels.isEmpty(); }
    }

    /** The executor's pin directory: the clock is at {@code pinDir()/clock}. */
    public Path pinDir() { return pinRoot.resolve(executor); }

    public static ProbeConfig load(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(r, file.toString());
        }
    }

    private static final Set<String> TOP_KEYS = Set.of("executor", "pin_root", "event_log", "clock_socket", "max_offset",
            "ring_buffer_kib", "skew", "targets", "sync", "fail_mode");

    public static ProbeConfig parse(Reader reader, String where) {
        Node root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(reader);
        } catch (MarkedYAMLException e) {
            throw new ConfigException(where, e.getProblemMark(), "not valid YAML: " + e.getProblem());
        }
        if (!(root instanceof MappingNode top)) {
            throw new ConfigException(where, root == null ? null : root.getStartMark(), "expected a mapping with at least 'executor:' and 'targets:'");
        }
        Section s = new Section(where, "", top, TOP_KEYS);
        String executor = s.string("executor", null);
        if (executor == null) throw new ConfigException(where, top.getStartMark(), "'executor' is missing: the executor id (node name in the event log, pin directory name)");
        if (!executor.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new ConfigException(where, s.mark("executor"), "'executor' must be 1-64 letters, digits, '.', '_' or '-' (it names a directory), got \"" + executor + "\"");
        }
        Path pinRoot = Path.of(s.string("pin_root", DEFAULT_PIN_ROOT.toString()));
        Path eventLog = Path.of(s.string("event_log", "/var/log/hlctrace/" + executor + ".probe.jsonl"));
        String sock = s.string("clock_socket", "/run/hlctrace/" + executor + "/clock.sock");
        Path clockSocket = "off".equals(sock) ? null : Path.of(sock);
        Duration maxOffset = s.duration("max_offset", DEFAULT_MAX_OFFSET);
        if (maxOffset.isNegative()) throw new ConfigException(where, s.mark("max_offset"), "'max_offset' must not be negative (0 turns the guard off)");
        int ringKib = (int) s.integer("ring_buffer_kib", 16384);
        if (ringKib < 4 || Integer.bitCount(ringKib) != 1) {
            throw new ConfigException(where, s.mark("ring_buffer_kib"), "'ring_buffer_kib' must be a power of two >= 4 (a BPF ring buffer is a power-of-two number of pages), got " + ringKib);
        }
        long offset = 0;
        double drift = 0;
        Section skew = s.section("skew", Set.of("offset", "drift_ppm"));
        if (skew != null) {
            offset = skew.duration("offset", Duration.ZERO).toNanos();
            drift = skew.decimal("drift_ppm", 0);
        }
        List<Path> cgroups = new ArrayList<>();
        List<Integer> pids = new ArrayList<>();
        List<Path> optionOnlyCgroups = new ArrayList<>();
        List<Integer> optionOnlyPids = new ArrayList<>();
        DockerTargets docker = new DockerTargets(Path.of("/var/run/docker.sock"), List.of(), List.of());
        Section targets = s.section("targets", Set.of("cgroups", "pids", "docker", "option_only_cgroups", "option_only_pids"));
        if (targets != null) {
            cgroups.addAll(targets.cgroupPaths("cgroups"));
            pids.addAll(targets.pids("pids"));
            optionOnlyCgroups.addAll(targets.cgroupPaths("option_only_cgroups"));
            optionOnlyPids.addAll(targets.pids("option_only_pids"));
            for (Path p : optionOnlyCgroups) {
                if (cgroups.contains(p)) {
                    throw new ConfigException(where, targets.mark("option_only_cgroups"), p + " is listed both in 'targets.cgroups' and 'targets.option_only_cgroups': "
                            + "a cgroup either has its messages logged by the probe or only carries the option (its processes log themselves); pick one");
                }
            }
            Section d = targets.section("docker", Set.of("socket", "names", "labels"));
            if (d != null) {
                docker = new DockerTargets(Path.of(d.string("socket", "/var/run/docker.sock")), d.strings("names"), d.strings("labels"));
            }
        }
        if (cgroups.isEmpty() && pids.isEmpty() && !docker.any() && optionOnlyCgroups.isEmpty() && optionOnlyPids.isEmpty()) {
            throw new ConfigException(where, top.getStartMark(), "no targets: give 'targets:' with 'cgroups', 'pids', 'docker' (names/labels), 'option_only_cgroups' or 'option_only_pids'");
        }
        Map<String, Object> sync = s.raw("sync");
        FailMode failMode = failMode(s, sync, where);
        return new ProbeConfig(executor, pinRoot, eventLog, clockSocket, maxOffset, ringKib, offset, drift,
                List.copyOf(cgroups), List.copyOf(pids), docker, sync, List.copyOf(optionOnlyCgroups), List.copyOf(optionOnlyPids), failMode);
    }

    /**
     * fail_mode, or the sync: section's fail-mode (the setting clock-sync documents), so the probe
     * and clock-sync's own stamper follow one rule; both given and different is an error.
     */
    private static FailMode failMode(Section s, Map<String, Object> sync, String where) {
        FailMode top = null;
        String text = s.string("fail_mode", null);
        if (text != null) {
            try {
                top = FailMode.parse(text, "'fail_mode'");
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where, s.mark("fail_mode"), e.getMessage());
            }
        }
        FailMode fromSync = null;
        if (sync != null) {
            for (Map.Entry<String, Object> e : sync.entrySet()) {
                if (e.getKey().replace("-", "").replace("_", "").equalsIgnoreCase("failmode") && e.getValue() != null) {
                    try {
                        fromSync = FailMode.parse(String.valueOf(e.getValue()), "'sync." + e.getKey() + "'");
                    } catch (IllegalArgumentException ex) {
                        throw new ConfigException(where, s.mark("sync"), ex.getMessage());
                    }
                }
            }
        }
        if (top != null && fromSync != null && top != fromSync) {
            throw new ConfigException(where, s.mark("fail_mode"), "'fail_mode: " + top.yamlName() + "' contradicts the sync section's fail-mode "
                    + fromSync.yamlName() + ": the probe and clock-sync must follow one rule; give it once");
        }
        return top != null ? top : fromSync != null ? fromSync : FailMode.MARK_UNHEALTHY;
    }

    /** A configuration error with its file, line and column. */
    public static final class ConfigException extends ProbeException {
        ConfigException(String where, Mark mark, String message) {
            super(where + (mark == null ? "" : ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1)) + ": " + message,
                    "fix the configuration (docs/kernel-probe.md shows every key)");
        }
    }


    /** "250ms", "-2h", "1.5s": a unit is required, since a bare number is ambiguous. */
    static Duration parseDuration(String text) {
        return DurationText.parse(text);
    }

    /** One mapping of the file, with its path for messages. */
    private static final class Section {
        final String where;
        final String prefix;
        final Map<String, NodeTuple> entries = new LinkedHashMap<>();

        Section(String where, String prefix, MappingNode node, Set<String> allowed) {
            this.where = where;
            this.prefix = prefix;
            for (NodeTuple t : node.getValue()) {
                if (!(t.getKeyNode() instanceof ScalarNode k)) throw new ConfigException(where, t.getKeyNode().getStartMark(), "keys must be plain words");
                if (!allowed.contains(k.getValue())) {
                    throw new ConfigException(where, k.getStartMark(), "unknown key '" + prefix + k.getValue() + "' (known here: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
                }
                entries.put(k.getValue(), t);
            }
        }

        Mark mark(String key) {
            NodeTuple t = entries.get(key);
            return t == null ? null : t.getValueNode().getStartMark();
        }

        private ScalarNode scalar(String key) {
            NodeTuple t = entries.get(key);
            if (t == null) return null;
            if (t.getValueNode() instanceof ScalarNode sn) return sn;
            throw new ConfigException(where, t.getValueNode().getStartMark(), "'" + prefix + key + "' must be a single value");
        }

        String string(String key, String dflt) {
            ScalarNode n = scalar(key);
            return n == null || n.getValue().isEmpty() ? dflt : n.getValue();
        }

        long integer(String key, long dflt) {
            ScalarNode n = scalar(key);
            if (n == null) return dflt;
            try {
                return Long.parseLong(n.getValue().strip());
            } catch (NumberFormatException e) {
                throw new ConfigException(where, n.getStartMark(), "'" + prefix + key + "' must be an integer, got \"" + n.getValue() + "\"");
            }
        }

        double decimal(String key, double dflt) {
            ScalarNode n = scalar(key);
            if (n == null) return dflt;
            try {
                return Double.parseDouble(n.getValue().strip());
            } catch (NumberFormatException e) {
                throw new ConfigException(where, n.getStartMark(), "'" + prefix + key + "' must be a number, got \"" + n.getValue() + "\"");
            }
        }

        Duration duration(String key, Duration dflt) {
            ScalarNode n = scalar(key);
            if (n == null) return dflt;
            try {
                return parseDuration(n.getValue());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where, n.getStartMark(), "'" + prefix + key + "': " + e.getMessage());
            }
        }

        List<String> strings(String key) {
            NodeTuple t = entries.get(key);
            if (t == null) return List.of();
            Node v = t.getValueNode();
            if (v instanceof ScalarNode sn) return sn.getValue().isEmpty() ? List.of() : List.of(sn.getValue());
            if (!(v instanceof SequenceNode seq)) throw new ConfigException(where, v.getStartMark(), "'" + prefix + key + "' must be a list");
            List<String> out = new ArrayList<>();
            for (Node item : seq.getValue()) {
                if (!(item instanceof ScalarNode sn)) throw new ConfigException(where, item.getStartMark(), "'" + prefix + key + "' items must be single values");
                out.add(sn.getValue());
            }
            return out;
        }

        /** Cgroup v2 directories; relative ones are under the v2 root. */
        List<Path> cgroupPaths(String key) {
            List<Path> out = new ArrayList<>();
            for (String c : strings(key)) {
                Path p = Path.of(c);
                out.add(p.isAbsolute() ? p : CGROUP2_ROOT.resolve(c));
            }
            return out;
        }

        List<Integer> pids(String key) {
            List<Integer> out = new ArrayList<>();
            for (String p : strings(key)) {
                try {
                    out.add(Integer.parseInt(p.strip()));
                } catch (NumberFormatException e) {
                    throw new ConfigException(where, mark(key), "'" + prefix + key + "' holds process ids (integers), got \"" + p + "\"");
                }
            }
            return out;
        }

        Section section(String key, Set<String> allowed) {
            NodeTuple t = entries.get(key);
            if (t == null) return null;
            if (t.getValueNode() instanceof ScalarNode sn && sn.getValue().isEmpty()) return null;
            if (!(t.getValueNode() instanceof MappingNode mn)) throw new ConfigException(where, t.getValueNode().getStartMark(), "'" + prefix + key + "' must be a mapping");
            return new Section(where, prefix + key + ".", mn, allowed);
        }

        /** A section handed as plain maps to another module (clock-sync validates its own keys). */
        @SuppressWarnings("unchecked")
        Map<String, Object> raw(String key) {
            NodeTuple t = entries.get(key);
            if (t == null) return null;
            if (!(t.getValueNode() instanceof MappingNode)) throw new ConfigException(where, t.getValueNode().getStartMark(), "'" + prefix + key + "' must be a mapping");
            Object o = new Yaml(new SafeConstructor(new LoaderOptions())).load(dump(t.getValueNode()));
            return (Map<String, Object>) o;
        }

        private static String dump(Node node) {
            java.io.StringWriter w = new java.io.StringWriter();
            new Yaml().serialize(node, w);
            return w.toString();
        }
    }
}
