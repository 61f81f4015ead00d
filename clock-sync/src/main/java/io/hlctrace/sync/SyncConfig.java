package io.hlctrace.sync;

import io.hlctrace.hlc.DurationText;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Configuration of one executor's clock-sync daemon. Built with {@link #builder(String)} or from the
 * parsed {@code sync:} section of a YAML file with {@link #fromMap(Map)}, for example:
 *
 * <pre>
 * sync:
 *   executor: a
 *   bind: 10.202.1.1:7400
 *   peers:
 *     - {id: b, address: 10.202.1.2:7400}
 *     - c=10.202.3.2:7400
 *   heartbeat: 100ms
 *   monitor-interval: 500ms      # a multiple of heartbeat
 *   max-offset: 250ms
 *   max-drift-ppm: 15
 *   startup-grace: 5s            # no "no peers answered" fail-stop until peers had time to start
 *   correct: true
 *   fail-mode: mark-unhealthy    # or refuse
 *   hmac-key: hex:00112233445566778899aabbccddeeff
 *   status-file: /run/hlctrace/sync-status.json
 * </pre>
 */
public record SyncConfig(
        String executorId,
        InetSocketAddress bind,
        List<Peer> peers,
        Duration heartbeat,
        Duration monitorInterval,
        Duration maxOffset,
        double maxDriftPpm,
        Duration startupGrace,
        boolean correct,
        FailMode failMode,
        Optional<byte[]> hmacKey,
        Optional<Path> statusFile) {

    public static final int DEFAULT_PORT = 7400;
    /** HMAC-SHA256 keys shorter than this are refused: a short key is guessable from captured packets. */
    public static final int MIN_KEY_BYTES = 16;
    public static final int MAX_ID_BYTES = 255;

    /** One peer executor: its id and the address its daemon listens on. */
    public record Peer(String id, InetSocketAddress address) {
        public Peer {
            checkId(id, "peer id");
            Objects.requireNonNull(address, "peer address");
        }

        public String hostPort() { return address.getHostString() + ":" + address.getPort(); }
    }

    /** What the stampers on an unhealthy executor do (the daemon only sets the unhealthy flag). */
    public enum FailMode {
        /** keep stamping, marking every event {@code "unhealthy": true} */
        MARK_UNHEALTHY("mark-unhealthy"),
        /** hand out no timestamps until the executor is healthy again */
        REFUSE("refuse");

        private final String yaml;

        FailMode(String yaml) { this.yaml = yaml; }

        public String yamlName() { return yaml; }

        public static FailMode parse(String s, String where) {
            for (FailMode m : values()) if (m.yaml.equalsIgnoreCase(s.strip())) return m;
            throw new IllegalArgumentException(where + ": fail mode \"" + s + "\" is neither mark-unhealthy nor refuse");
        }
    }

    public SyncConfig {
        checkId(executorId, "executor id");
        Objects.requireNonNull(bind, "bind address");
        peers = List.copyOf(peers);
        Set<String> ids = new HashSet<>();
        ids.add(executorId);
        for (Peer p : peers) {
            if (!ids.add(p.id())) throw new IllegalArgumentException("peer id \"" + p.id() + "\" appears twice (or is this executor's own id); every executor needs a distinct id");
        }
        if (heartbeat.isNegative() || heartbeat.isZero()) throw new IllegalArgumentException("heartbeat must be positive, got " + heartbeat);
        long hb = heartbeat.toNanos();
        long mon = monitorInterval.toNanos();
        if (mon < hb || mon % hb != 0) {
            throw new IllegalArgumentException("monitor interval " + monitorInterval + " must be a multiple (1, 2, ...) of the heartbeat " + heartbeat);
        }
        if (maxOffset.isNegative() || maxOffset.isZero()) throw new IllegalArgumentException("max offset must be positive, got " + maxOffset);
        if (startupGrace.isNegative()) throw new IllegalArgumentException("startup grace must not be negative, got " + startupGrace);
        if (maxDriftPpm < 0 || maxDriftPpm > 1000) throw new IllegalArgumentException("max drift must be within 0..1000 ppm, got " + maxDriftPpm);
        Objects.requireNonNull(failMode, "fail mode");
        hmacKey = hmacKey.map(byte[]::clone);
        hmacKey.ifPresent(k -> {
            if (k.length < MIN_KEY_BYTES) throw new IllegalArgumentException("the HMAC key is " + k.length + " bytes; use at least " + MIN_KEY_BYTES + " random bytes (e.g. hex: of `head -c 32 /dev/urandom | xxd -p -c 64`)");
        });
        Objects.requireNonNull(statusFile, "status file");
    }

    private static void checkId(String id, String what) {
        if (id == null || id.isBlank()) throw new IllegalArgumentException(what + " is missing");
        if (id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) throw new IllegalArgumentException(what + " \"" + id + "\" is longer than " + MAX_ID_BYTES + " bytes");
    }

    /** Heartbeats per monitor interval. */
    public int heartbeatsPerMonitor() { return (int) (monitorInterval.toNanos() / heartbeat.toNanos()); }

    /** Number of time sources: the peers and the executor itself. */
    public int sources() { return peers.size() + 1; }

    /** Sources needed for a majority. */
    public int majority() { return sources() / 2 + 1; }

    public Optional<Peer> peer(String id) {
        for (Peer p : peers) if (p.id().equals(id)) return Optional.of(p);
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "SyncConfig[executor=" + executorId + ", bind=" + bind.getHostString() + ":" + bind.getPort() + ", peers=" + peers
                + ", heartbeat=" + heartbeat + ", monitor=" + monitorInterval + ", maxOffset=" + maxOffset
                + ", maxDriftPpm=" + maxDriftPpm + ", startupGrace=" + startupGrace + ", correct=" + correct + ", failMode=" + failMode.yamlName()
                + ", hmac=" + (hmacKey.isPresent() ? "on" : "off") + ", statusFile=" + statusFile.map(Path::toString).orElse("-") + "]";
    }

    // ------------------------------------------------------------------ builder

    public static Builder builder(String executorId) { return new Builder(executorId); }

    public static final class Builder {
        private final String executorId;
        private InetSocketAddress bind = new InetSocketAddress("0.0.0.0", DEFAULT_PORT);
        private final List<Peer> peers = new ArrayList<>();
        private Duration heartbeat = Duration.ofMillis(100);
        private Duration monitorInterval = Duration.ofMillis(500);
        private Duration maxOffset = Duration.ofMillis(250);
        private double maxDriftPpm = 15;
        private Duration startupGrace = Duration.ofSeconds(5);
        private boolean correct = true;
        private FailMode failMode = FailMode.MARK_UNHEALTHY;
        private byte[] hmacKey;
        private Path statusFile;

        private Builder(String executorId) { this.executorId = executorId; }

        public Builder bind(InetSocketAddress a) { this.bind = a; return this; }
        public Builder bind(String hostPort) { this.bind = parseHostPort(hostPort, DEFAULT_PORT, "bind"); return this; }
        public Builder peer(String id, InetSocketAddress a) { peers.add(new Peer(id, a)); return this; }
        public Builder peer(String id, String hostPort) { return peer(id, parseHostPort(hostPort, DEFAULT_PORT, "peer " + id)); }
        public Builder heartbeat(Duration d) { this.heartbeat = d; return this; }
        public Builder monitorInterval(Duration d) { this.monitorInterval = d; return this; }
        public Builder maxOffset(Duration d) { this.maxOffset = d; return this; }
        public Builder maxDriftPpm(double ppm) { this.maxDriftPpm = ppm; return this; }
        public Builder startupGrace(Duration d) { this.startupGrace = d; return this; }
        public Builder correct(boolean c) { this.correct = c; return this; }
        public Builder failMode(FailMode m) { this.failMode = m; return this; }
        public Builder hmacKey(byte[] key) { this.hmacKey = key == null ? null : key.clone(); return this; }
        public Builder statusFile(Path p) { this.statusFile = p; return this; }

        public SyncConfig build() {
            return new SyncConfig(executorId, bind, peers, heartbeat, monitorInterval, maxOffset, maxDriftPpm, startupGrace, correct,
                    failMode, Optional.ofNullable(hmacKey), Optional.ofNullable(statusFile));
        }
    }

    // ------------------------------------------------------------------ from a parsed YAML section

    /**
     * Builds the config from the parsed {@code sync:} section (keys in kebab-case or camelCase);
     * without {@code status-file} the status goes to {@link StatusCommand#DEFAULT_STATUS}.
     * Errors name the offending key, e.g. {@code sync.peers[1].address}, and say what is expected.
     */
    public static SyncConfig fromMap(Map<String, Object> section) {
        return fromMap(section, "sync");
    }

    /** As {@link #fromMap(Map)}, with {@code where} naming the section in error messages. */
    public static SyncConfig fromMap(Map<String, Object> section, String where) {
        return fromMap(section, where, Map.of());
    }

    /**
     * As {@link #fromMap(Map, String)}, with values the section may omit taken from
     * {@code defaults} (same keys), e.g. the probe's top-level executor id and max offset:
     * {@code fromMap(section, "sync", Map.of("executor", "web-1", "max-offset", "500ms"))}.
     */
    public static SyncConfig fromMap(Map<String, Object> section, String where, Map<String, Object> defaults) {
        if (section == null) throw new IllegalArgumentException(where + ": the section is empty");
        Set<String> known = Set.of("executor", "executorid", "id", "bind", "port", "peers",
                "heartbeat", "monitorinterval", "maxoffset", "maxdriftppm", "startupgrace", "correct", "failmode", "hmackey", "statusfile");
        Map<String, Object> m = normalise(defaults, where + " (defaults)", known);
        m.putAll(normalise(section, where, known));
        Object id = first(m, "executor", "executorid", "id");
        if (id == null) throw new IllegalArgumentException(where + ".executor: missing; give this executor's id (the same name its peers list)");
        Builder b = builder(id.toString());
        int port = m.containsKey("port") ? intValue(m.get("port"), where + ".port") : DEFAULT_PORT;
        if (m.containsKey("bind")) b.bind(parseHostPort(m.get("bind").toString(), port, where + ".bind"));
        else b.bind(new InetSocketAddress("0.0.0.0", port));
        Object peers = m.get("peers");
        if (peers instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) addPeer(b, list.get(i), where + ".peers[" + i + "]", port);
        } else if (peers instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String pw = where + ".peers." + e.getKey();
                b.peer(e.getKey().toString(), parseHostPort(String.valueOf(e.getValue()), port, pw));
            }
        } else if (peers != null) {
            throw new IllegalArgumentException(where + ".peers: expected a list of {id, address} or id=host:port, got " + peers);
        }
        if (m.containsKey("heartbeat")) b.heartbeat(duration(m.get("heartbeat"), where + ".heartbeat"));
        if (m.containsKey("monitorinterval")) b.monitorInterval(duration(m.get("monitorinterval"), where + ".monitor-interval"));
        if (m.containsKey("maxoffset")) b.maxOffset(duration(m.get("maxoffset"), where + ".max-offset"));
        if (m.containsKey("maxdriftppm")) b.maxDriftPpm(doubleValue(m.get("maxdriftppm"), where + ".max-drift-ppm"));
        if (m.containsKey("startupgrace")) b.startupGrace(duration(m.get("startupgrace"), where + ".startup-grace"));
        if (m.containsKey("correct")) b.correct(bool(m.get("correct"), where + ".correct"));
        if (m.containsKey("failmode")) b.failMode(FailMode.parse(String.valueOf(m.get("failmode")), where + ".fail-mode"));
        if (m.get("hmackey") != null) b.hmacKey(parseKey(m.get("hmackey").toString(), where + ".hmac-key"));
        // a configured daemon always leaves a status for `probe status` / `sync status` to read
        b.statusFile(m.get("statusfile") != null ? Path.of(m.get("statusfile").toString()) : StatusCommand.DEFAULT_STATUS);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static void addPeer(Builder b, Object item, String where, int defaultPort) {
        if (item instanceof Map<?, ?> raw) {
            @SuppressWarnings("unchecked")
            Map<String, Object> pm = normalise((Map<String, Object>) raw, where, Set.of("id", "address", "host", "port"));
            Object id = pm.get("id");
            if (id == null) throw new IllegalArgumentException(where + ".id: missing");
            InetSocketAddress a;
            if (pm.get("address") != null) {
                a = parseHostPort(pm.get("address").toString(), defaultPort, where + ".address");
            } else if (pm.get("host") != null) {
                int port = pm.containsKey("port") ? intValue(pm.get("port"), where + ".port") : defaultPort;
                a = parseHostPort(pm.get("host").toString(), port, where + ".host");
            } else {
                throw new IllegalArgumentException(where + ".address: missing; give host:port of the peer's sync daemon");
            }
            b.peer(id.toString(), a);
        } else if (item instanceof String s && s.contains("=")) {
            int eq = s.indexOf('=');
            b.peer(s.substring(0, eq).strip(), parseHostPort(s.substring(eq + 1), defaultPort, where));
        } else {
            throw new IllegalArgumentException(where + ": expected {id: ..., address: host:port} or \"id=host:port\", got " + item);
        }
    }

    private static Map<String, Object> normalise(Map<String, Object> in, String where, Set<String> known) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : in.entrySet()) {
            String k = String.valueOf(e.getKey()).replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
            if (!known.contains(k)) throw new IllegalArgumentException(where + "." + e.getKey() + ": unknown key (known: " + String.join(", ", known) + ", in kebab-case or camelCase)");
            out.put(k, e.getValue());
        }
        return out;
    }

    private static Object first(Map<String, Object> m, String... keys) {
        for (String k : keys) if (m.get(k) != null) return m.get(k);
        return null;
    }

    /** "100ms", "1.5s", "2h", "250us" ({@link DurationText}), or a YAML number of milliseconds. */
    public static Duration duration(Object v, String where) {
        if (v instanceof Number n) return Duration.ofNanos(Math.round(n.doubleValue() * 1e6));
        try {
            return DurationText.parse(String.valueOf(v));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    private static int intValue(Object v, String where) {
        try {
            return v instanceof Number n ? n.intValue() : Integer.parseInt(v.toString().strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": \"" + v + "\" is not a whole number");
        }
    }

    private static double doubleValue(Object v, String where) {
        try {
            return v instanceof Number n ? n.doubleValue() : Double.parseDouble(v.toString().strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": \"" + v + "\" is not a number");
        }
    }

    private static boolean bool(Object v, String where) {
        if (v instanceof Boolean bo) return bo;
        String s = String.valueOf(v).strip().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException(where + ": \"" + v + "\" is not true or false");
        };
    }

    /** "hex:..." or "base64:..." give raw bytes; any other text is used as UTF-8 bytes. */
    public static byte[] parseKey(String text, String where) {
        String t = text.strip();
        try {
            if (t.startsWith("hex:")) return HexFormat.of().parseHex(t.substring(4).strip());
            if (t.startsWith("base64:")) return Base64.getDecoder().decode(t.substring(7).strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": the key is not valid " + t.substring(0, t.indexOf(':')) + ": " + e.getMessage());
        }
        return t.getBytes(StandardCharsets.UTF_8);
    }

    /** host:port, [v6]:port, or a host alone (then {@code defaultPort}). Resolved now, so a typo fails at start. */
    public static InetSocketAddress parseHostPort(String text, int defaultPort, String where) {
        String s = text.strip();
        String host;
        int port = defaultPort;
        try {
            if (s.startsWith("[")) {
                int close = s.indexOf(']');
                if (close < 0) throw new IllegalArgumentException("unclosed [");
                host = s.substring(1, close);
                if (close + 1 < s.length()) {
                    if (s.charAt(close + 1) != ':') throw new IllegalArgumentException("expected :port after ]");
                    port = Integer.parseInt(s.substring(close + 2));
                }
            } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
                host = s.substring(0, s.indexOf(':'));
                port = Integer.parseInt(s.substring(s.indexOf(':') + 1));
            } else {
                host = s;
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": \"" + text + "\" has no valid port (expected host:port)");
        }
        if (host.isEmpty()) throw new IllegalArgumentException(where + ": \"" + text + "\" has no host (expected host:port)");
        if (port < 0 || port > 65535) throw new IllegalArgumentException(where + ": port " + port + " is outside 0..65535");
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved()) throw new IllegalArgumentException(where + ": cannot resolve host \"" + host + "\"");
        return a;
    }
}
