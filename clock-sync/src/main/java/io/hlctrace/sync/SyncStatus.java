package io.hlctrace.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A snapshot of one executor's clock sync, as written to the status file (JSON) each monitor
 * interval and shown by {@link StatusCommand}. Times ending in {@code Ns} are nanoseconds; points
 * in time ({@code writtenAtNs}, {@code lastContactNs}) are on the executor's corrected clock.
 */
public record SyncStatus(
        String executor,
        long writtenAtNs,
        Health health,
        String reason,
        boolean correct,
        String failMode,
        long offsetNs,
        long syncErrorNs,
        long lastCorrectionNs,
        long corrections,
        long maxOffsetNs,
        long heartbeatNs,
        long monitorNs,
        long unhealthyTransitions,
        Agreed agreed,
        List<PeerStatus> peers,
        Traffic traffic) {

    /** The executor's sync health. STARTING: no monitor interval has ended yet (the flag is left as it was). */
    public enum Health { STARTING, HEALTHY, UNHEALTHY }

    /** The Marzullo interval of the last decision (offsets relative to this executor's clock before correction). */
    public record Agreed(long loNs, long hiNs, int sources, int of, List<String> members) {}

    /** What the last monitor interval's best sample says about one peer. */
    public record PeerStatus(String id, String address, boolean sampled, long offsetNs, long errorNs, long roundTripNs,
                             long lastContactNs, long samples, boolean inMajority, boolean peerUnhealthy) {}

    /** Probe traffic: totals since start, rates over the last monitor interval, and dropped packets. */
    public record Traffic(long sentPackets, long sentBytes, long receivedPackets, long receivedBytes,
                          long authFailures, long malformed, long unknownSender, long unmatched,
                          double sentPacketsPerSecond, double sentBytesPerSecond,
                          double receivedPacketsPerSecond, double receivedBytesPerSecond) {
        public static final Traffic NONE = new Traffic(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    public boolean healthy() { return health == Health.HEALTHY; }

    /** TrueTime's now(): [earliest, latest] around a reading of the executor's corrected clock. */
    public long[] nowInterval(long executorClockNanos) {
        return new long[] {executorClockNanos - syncErrorNs, executorClockNanos + syncErrorNs};
    }

    public PeerStatus peer(String id) {
        for (PeerStatus p : peers) if (p.id().equals(id)) return p;
        return null;
    }

    // ------------------------------------------------------------------ JSON

    public String toJson() {
        StringBuilder sb = new StringBuilder(512);
        sb.append('{');
        str(sb, "executor", executor).append(',');
        num(sb, "written_at_ns", writtenAtNs).append(',');
        str(sb, "health", health.name().toLowerCase()).append(',');
        str(sb, "reason", reason).append(',');
        sb.append("\"correct\":").append(correct).append(',');
        str(sb, "fail_mode", failMode).append(',');
        num(sb, "offset_ns", offsetNs).append(',');
        num(sb, "sync_error_ns", syncErrorNs).append(',');
        num(sb, "last_correction_ns", lastCorrectionNs).append(',');
        num(sb, "corrections", corrections).append(',');
        num(sb, "max_offset_ns", maxOffsetNs).append(',');
        num(sb, "heartbeat_ns", heartbeatNs).append(',');
        num(sb, "monitor_ns", monitorNs).append(',');
        num(sb, "unhealthy_transitions", unhealthyTransitions).append(',');
        sb.append("\"agreed\":");
        if (agreed == null) {
            sb.append("null");
        } else {
            sb.append('{');
            num(sb, "lo_ns", agreed.loNs()).append(',');
            num(sb, "hi_ns", agreed.hiNs()).append(',');
            num(sb, "sources", agreed.sources()).append(',');
            num(sb, "of", agreed.of()).append(",\"members\":[");
            for (int i = 0; i < agreed.members().size(); i++) {
                if (i > 0) sb.append(',');
                str(sb, null, agreed.members().get(i));
            }
            sb.append("]}");
        }
        sb.append(",\"peers\":[");
        for (int i = 0; i < peers.size(); i++) {
            PeerStatus p = peers.get(i);
            if (i > 0) sb.append(',');
            sb.append('{');
            str(sb, "id", p.id()).append(',');
            str(sb, "address", p.address()).append(',');
            sb.append("\"sampled\":").append(p.sampled()).append(',');
            num(sb, "offset_ns", p.offsetNs()).append(',');
            num(sb, "error_ns", p.errorNs()).append(',');
            num(sb, "round_trip_ns", p.roundTripNs()).append(',');
            num(sb, "last_contact_ns", p.lastContactNs()).append(',');
            num(sb, "samples", p.samples()).append(',');
            sb.append("\"in_majority\":").append(p.inMajority()).append(',');
            sb.append("\"peer_unhealthy\":").append(p.peerUnhealthy()).append('}');
        }
        Traffic t = traffic;
        sb.append("],\"traffic\":{");
        num(sb, "sent_packets", t.sentPackets()).append(',');
        num(sb, "sent_bytes", t.sentBytes()).append(',');
        num(sb, "received_packets", t.receivedPackets()).append(',');
        num(sb, "received_bytes", t.receivedBytes()).append(',');
        num(sb, "auth_failures", t.authFailures()).append(',');
        num(sb, "malformed", t.malformed()).append(',');
        num(sb, "unknown_sender", t.unknownSender()).append(',');
        num(sb, "unmatched", t.unmatched()).append(',');
        dbl(sb, "sent_packets_per_s", t.sentPacketsPerSecond()).append(',');
        dbl(sb, "sent_bytes_per_s", t.sentBytesPerSecond()).append(',');
        dbl(sb, "received_packets_per_s", t.receivedPacketsPerSecond()).append(',');
        dbl(sb, "received_bytes_per_s", t.receivedBytesPerSecond());
        return sb.append("}}").toString();
    }

    private static StringBuilder str(StringBuilder sb, String key, String value) {
        if (key != null) sb.append('"').append(key).append("\":");
        if (value == null) return sb.append("null");
        // JSON string escaping (EventLogLine has the same rules for event logs)
        io.hlctrace.hlc.EventLogLine.appendJsonString(sb, value);
        return sb;
    }

    private static StringBuilder num(StringBuilder sb, String key, long v) {
        return sb.append('"').append(key).append("\":").append(v);
    }

    private static StringBuilder dbl(StringBuilder sb, String key, double v) {
        return sb.append('"').append(key).append("\":").append(Double.isFinite(v) ? String.format(java.util.Locale.ROOT, "%.3f", v) : "0");
    }

    /** Parses what {@link #toJson()} wrote; a broken file gives an error naming the missing field. */
    public static SyncStatus fromJson(String json) {
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a clock-sync status (JSON does not parse): " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> m)) throw new IllegalArgumentException("not a clock-sync status: expected a JSON object");
        Agreed agreed = null;
        if (m.get("agreed") instanceof Map<?, ?> a) {
            List<String> members = new ArrayList<>();
            if (a.get("members") instanceof List<?> l) for (Object o : l) members.add(String.valueOf(o));
            agreed = new Agreed(l(a, "lo_ns"), l(a, "hi_ns"), (int) l(a, "sources"), (int) l(a, "of"), members);
        }
        List<PeerStatus> peers = new ArrayList<>();
        if (m.get("peers") instanceof List<?> pl) {
            for (Object o : pl) {
                Map<?, ?> p = (Map<?, ?>) o;
                peers.add(new PeerStatus(s(p, "id"), s(p, "address"), b(p, "sampled"), l(p, "offset_ns"), l(p, "error_ns"),
                        l(p, "round_trip_ns"), l(p, "last_contact_ns"), l(p, "samples"), b(p, "in_majority"), b(p, "peer_unhealthy")));
            }
        }
        Traffic traffic = Traffic.NONE;
        if (m.get("traffic") instanceof Map<?, ?> t) {
            traffic = new Traffic(l(t, "sent_packets"), l(t, "sent_bytes"), l(t, "received_packets"), l(t, "received_bytes"),
                    l(t, "auth_failures"), l(t, "malformed"), l(t, "unknown_sender"), l(t, "unmatched"),
                    d(t, "sent_packets_per_s"), d(t, "sent_bytes_per_s"), d(t, "received_packets_per_s"), d(t, "received_bytes_per_s"));
        }
        return new SyncStatus(s(m, "executor"), l(m, "written_at_ns"), Health.valueOf(s(m, "health").toUpperCase()), s(m, "reason"),
                b(m, "correct"), s(m, "fail_mode"), l(m, "offset_ns"), l(m, "sync_error_ns"), l(m, "last_correction_ns"),
                l(m, "corrections"), l(m, "max_offset_ns"), l(m, "heartbeat_ns"), l(m, "monitor_ns"), l(m, "unhealthy_transitions"),
                agreed, peers, traffic);
    }

    private static Object need(Map<?, ?> m, String k) {
        if (!m.containsKey(k)) throw new IllegalArgumentException("not a clock-sync status: field \"" + k + "\" is missing");
        return m.get(k);
    }

    private static long l(Map<?, ?> m, String k) {
        Object v = need(m, k);
        if (v instanceof Number n) return n.longValue();
        throw new IllegalArgumentException("clock-sync status: field \"" + k + "\" is not a number: " + v);
    }

    private static double d(Map<?, ?> m, String k) {
        Object v = need(m, k);
        if (v instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException("clock-sync status: field \"" + k + "\" is not a number: " + v);
    }

    private static boolean b(Map<?, ?> m, String k) {
        Object v = need(m, k);
        if (v instanceof Boolean bo) return bo;
        throw new IllegalArgumentException("clock-sync status: field \"" + k + "\" is not true/false: " + v);
    }

    private static String s(Map<?, ?> m, String k) {
        Object v = need(m, k);
        return v == null ? null : v.toString();
    }
}
