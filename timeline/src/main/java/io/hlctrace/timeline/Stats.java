package io.hlctrace.timeline;

import io.hlctrace.hlc.HlcTimestamp;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/** Per-executor figures gathered while streaming: how far HLC ran ahead of physical time, the largest c. */
public final class Stats {
    /** Figures of one executor (node). */
    public static final class Node {
        public final String node;
        public long events;
        public long maxAheadNanos = Long.MIN_VALUE;
        public Event maxAheadAt;
        public int maxC = -1;
        public Event maxCAt;
        public long refused;
        public long unhealthy;
        public long dropped;
        public long firstPt = Long.MAX_VALUE, lastPt = Long.MIN_VALUE;

        Node(String node) { this.node = node; }
    }

    private final Map<String, Node> nodes = new HashMap<>();
    private long events;
    private long lamportCarried, vcCarried;

    public void accept(Event e) {
        events++;
        Node n = nodes.get(e.node());
        if (n == null) nodes.put(e.node(), n = new Node(e.node()));
        n.events++;
        long ahead = e.hlcAheadOfPtNanos();
        if (ahead > n.maxAheadNanos) { n.maxAheadNanos = ahead; n.maxAheadAt = e; }
        int c = HlcTimestamp.c(e.hlc());
        if (c > n.maxC) { n.maxC = c; n.maxCAt = e; }
        if (e.refused()) n.refused++;
        if (e.unhealthy()) n.unhealthy++;
        n.dropped += e.dropped();
        if (e.pt() < n.firstPt) n.firstPt = e.pt();
        if (e.pt() > n.lastPt) n.lastPt = e.pt();
        if (e.lamport() >= 0) lamportCarried++;
        if (e.vc() != null) vcCarried++;
    }

    /** Per executor, by name. */
    public Map<String, Node> nodes() { return new TreeMap<>(nodes); }

    public long events() { return events; }

    public long carrying(ClockKind clock) {
        return switch (clock) {
            case HLC, WALL -> events;
            case LAMPORT -> lamportCarried;
            case VECTOR -> vcCarried;
        };
    }

    public long refused() { return nodes.values().stream().mapToLong(n -> n.refused).sum(); }

    public long dropped() { return nodes.values().stream().mapToLong(n -> n.dropped).sum(); }

    public int maxC() { return nodes.values().stream().mapToInt(n -> n.maxC).max().orElse(-1); }
}
