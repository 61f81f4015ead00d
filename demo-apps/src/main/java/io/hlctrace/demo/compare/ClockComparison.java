package io.hlctrace.demo.compare;

import io.hlctrace.hlc.AtomicClockCell;
import io.hlctrace.hlc.Causality;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.LamportClock;
import io.hlctrace.hlc.ManualPhysicalClock;
import io.hlctrace.hlc.VectorClock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Orders one recorded run five ways and measures each: (a) each executor's physical clock,
 * (b) Lamport and (c) vector clocks computed from the happened-before graph, (d) an HLC per executor
 * that merges only when a TCP connection is accepted (the timer of shared/seeds/004), recomputed
 * from the recorded physical times, and (e) hlctrace's HLC as recorded.
 */
public final class ClockComparison {
    public enum Clock {
        PHYSICAL("(a) physical clock per executor", "pt"),
        LAMPORT("(b) Lamport clock", "lamport"),
        VECTOR("(c) vector clock", "vector"),
        HLC_CONNECT_ONLY("(d) HLC merged only at TCP connect/accept", "hlc-connect"),
        HLC("(e) hlctrace HLC on every message", "hlc");

        public final String title;
        public final String id;

        Clock(String title, String id) {
            this.title = title;
            this.id = id;
        }
    }

    /**
     * How one clock did. Distances are in nanoseconds and absent (null) for clocks that are not a
     * time. {@code concurrentPairsOrdered}: of the sampled concurrent pairs, how many the clock puts
     * in an order anyway (so a reader cannot tell them from causally related pairs).
     */
    public record Result(Clock clock, long edges, long violations, long messageViolations, String firstViolation,
                         Long maxAheadNanos, Long maxBehindNanos, Long medianAbsDistanceNanos, Long eventsOverOneSecondOff, double meanBytes, int maxBytes,
                         boolean tellsConcurrentApart, long concurrentPairsSampled, long concurrentPairsOrdered,
                         long pairsSampled, long realTimeInversions) {
        public Long maxDistanceNanos() {
            return maxAheadNanos == null ? null : Math.max(Math.abs(maxAheadNanos), Math.abs(maxBehindNanos));
        }
    }

    /** The five results, and the computed timestamps, for rendering and tests. */
    public record Comparison(EventGraph graph, List<Result> results, long[] lamport, VectorClock[] vector, long[] hlcConnectOnly) {
        public Result get(Clock c) {
            return results.stream().filter(r -> r.clock() == c).findFirst().orElseThrow();
        }
    }

    private ClockComparison() {}

    public static Comparison compare(EventGraph g) {
        int n = g.events().size();
        int[] order = g.realTimeTopologicalOrder();
        long[] pt = new long[n], hlc = new long[n];
        for (EventGraph.Event e : g.events()) {
            pt[e.index()] = e.pt();
            hlc[e.index()] = e.hlc();
        }
        long[] lamport = lamport(g, order);
        VectorClock[] vector = vector(g, order);
        long[] connectOnly = hlcMergedOnlyAtAccept(g);

        List<Result> results = new ArrayList<>();
        results.add(scalar(g, Clock.PHYSICAL, pt, false, true, vector));
        results.add(scalar(g, Clock.LAMPORT, lamport, false, false, vector));
        results.add(vectorResult(g, vector));
        results.add(scalar(g, Clock.HLC_CONNECT_ONLY, connectOnly, true, true, vector));
        results.add(scalar(g, Clock.HLC, hlc, true, true, vector));
        return new Comparison(g, results, lamport, vector, connectOnly);
    }

    static long[] lamport(EventGraph g, int[] order) {
        long[] l = new long[g.events().size()];
        Map<String, LamportClock> clocks = new HashMap<>();
        for (int e : order) {
            LamportClock c = clocks.computeIfAbsent(g.events().get(e).lane(), k -> new LamportClock());
            long remote = -1;
            for (EventGraph.Edge in : g.incoming(e)) if (in.kind() == EventGraph.EdgeKind.MESSAGE) remote = Math.max(remote, l[in.from()]);
            l[e] = remote < 0 ? c.tick() : c.receive(remote);
        }
        return l;
    }

    static VectorClock[] vector(EventGraph g, int[] order) {
        VectorClock[] v = new VectorClock[g.events().size()];
        Map<String, VectorClock> last = new HashMap<>();
        for (int e : order) {
            String lane = g.events().get(e).lane();
            VectorClock c = last.getOrDefault(lane, VectorClock.ZERO);
            VectorClock remote = null;
            for (EventGraph.Edge in : g.incoming(e)) {
                if (in.kind() == EventGraph.EdgeKind.MESSAGE) remote = remote == null ? v[in.from()] : remote.merge(v[in.from()]);
            }
            v[e] = remote == null ? c.tick(lane) : c.receive(lane, remote);
            last.put(lane, v[e]);
        }
        return v;
    }

    /**
     * The seed-004 timer: one HLC per executor that ticks on every event and merges a remote
     * timestamp only when it accepts a TCP connection (the connector's clock at connect), never on
     * the messages that follow on that connection.
     */
    static long[] hlcMergedOnlyAtAccept(EventGraph g) {
        long[] d = new long[g.events().size()];
        boolean[] done = new boolean[g.events().size()];
        Map<String, Integer> connects = new HashMap<>();
        for (EventGraph.Event e : g.events()) {
            if (e.kind().equals("connect") && e.conn() != null) connects.put(e.conn(), e.index());
        }
        // The SYN carries the connector's clock to the acceptor, so the accept is processed after its
        // connect even when the logs stamped the connect later (a connect returns after the handshake).
        List<int[]> synEdges = new ArrayList<>();
        for (EventGraph.Event e : g.events()) {
            Integer c = e.kind().equals("accept") && e.conn() != null ? connects.get(reverse(e.conn())) : null;
            if (c != null) synEdges.add(new int[]{c, e.index()});
        }
        int[] order;
        try {
            order = g.realTimeTopologicalOrder(synEdges);
        } catch (IllegalStateException cycle) {
            // a connect that causally depends on its own accept cannot happen; fall back to real-time order
            order = g.realTimeTopologicalOrder();
        }
        Map<String, HybridLogicalClock> clocks = new HashMap<>();
        Map<String, ManualPhysicalClock> physical = new HashMap<>();
        for (int i : order) {
            EventGraph.Event e = g.events().get(i);
            ManualPhysicalClock pc = physical.computeIfAbsent(e.node(), k -> new ManualPhysicalClock(0));
            HybridLogicalClock c = clocks.computeIfAbsent(e.node(), k -> new HybridLogicalClock(new AtomicClockCell(), pc, HybridLogicalClock.GUARD_OFF));
            pc.set(e.pt());
            Integer connect = e.kind().equals("accept") && e.conn() != null ? connects.get(reverse(e.conn())) : null;
            d[i] = connect != null && done[connect] ? c.update(d[connect]).timestamp() : c.now();
            done[i] = true;
        }
        return d;
    }

    /** "a>b" seen from the other side is "b>a". */
    static String reverse(String conn) {
        int k = conn.indexOf('>');
        return k < 0 ? conn : conn.substring(k + 1) + ">" + conn.substring(0, k);
    }

    private static Result scalar(EventGraph g, Clock clock, long[] key, boolean unsigned, boolean isTime, VectorClock[] truth) {
        long violations = 0, messageViolations = 0;
        String first = null;
        for (EventGraph.Edge e : g.edges()) {
            int cmp = unsigned ? Long.compareUnsigned(key[e.to()], key[e.from()]) : Long.compare(key[e.to()], key[e.from()]);
            if (cmp <= 0) {
                violations++;
                if (e.kind() == EventGraph.EdgeKind.MESSAGE) messageViolations++;
                if (first == null) first = describe(g, clock, e, render(clock, key[e.from()]), render(clock, key[e.to()]));
            }
        }
        Long ahead = null, behind = null, median = null, overOneSecond = null;
        if (isTime && !g.events().isEmpty()) {
            long a = Long.MIN_VALUE, b = Long.MIN_VALUE;
            long[] abs = new long[g.events().size()];
            for (EventGraph.Event ev : g.events()) {
                long t = unsigned ? HlcTimestamp.toNanos(key[ev.index()]) : key[ev.index()];
                a = Math.max(a, t - ev.trueNanos());
                b = Math.max(b, ev.trueNanos() - t);
                abs[ev.index()] = Math.abs(t - ev.trueNanos());
            }
            long far = 0;
            for (long x : abs) if (x > 1_000_000_000L) far++;
            overOneSecond = far;
            java.util.Arrays.sort(abs);
            ahead = a;
            behind = b;
            median = abs[abs.length / 2];
        }
        long[] pairs = concurrentPairs(g, truth, (x, y) -> key[x] != key[y]);
        long[] inversions = realTimeInversions(g, (x, y) -> unsigned ? Long.compareUnsigned(key[x], key[y]) : Long.compare(key[x], key[y]));
        return new Result(clock, g.edges().size(), violations, messageViolations, first, ahead, behind, median, overOneSecond, 8, 8, false, pairs[0], pairs[1],
                inversions[0], inversions[1]);
    }

    private static Result vectorResult(EventGraph g, VectorClock[] v) {
        long violations = 0, messageViolations = 0;
        String first = null;
        for (EventGraph.Edge e : g.edges()) {
            if (v[e.from()].compare(v[e.to()]) != Causality.BEFORE) {
                violations++;
                if (e.kind() == EventGraph.EdgeKind.MESSAGE) messageViolations++;
                if (first == null) first = describe(g, Clock.VECTOR, e, v[e.from()].toString(), v[e.to()].toString());
            }
        }
        long sum = 0;
        int max = 0;
        for (VectorClock c : v) {
            sum += c.encodedSize();
            max = Math.max(max, c.encodedSize());
        }
        long[] pairs = concurrentPairs(g, v, (x, y) -> v[x].compare(v[y]) != Causality.CONCURRENT);
        long[] inversions = realTimeInversions(g, (x, y) -> switch (v[x].compare(v[y])) {
            case BEFORE -> -1;
            case AFTER -> 1;
            default -> 0;
        });
        return new Result(Clock.VECTOR, g.edges().size(), violations, messageViolations, first, null, null, null, null,
                v.length == 0 ? 0 : (double) sum / v.length, max, true, pairs[0], pairs[1], inversions[0], inversions[1]);
    }

    interface PairOrdered { boolean ordered(int a, int b); }

    /** Samples event pairs (fixed seed), keeps the concurrent ones (by the vector clocks) and counts how many the clock orders. */
    private static long[] concurrentPairs(EventGraph g, VectorClock[] truth, PairOrdered clock) {
        int n = g.events().size();
        if (n < 2) return new long[]{0, 0};
        Random r = new Random(42);
        long concurrent = 0, ordered = 0;
        for (int i = 0; i < 4000; i++) {
            int a = r.nextInt(n), b = r.nextInt(n);
            if (a == b || truth[a].compare(truth[b]) != Causality.CONCURRENT) continue;
            concurrent++;
            if (clock.ordered(a, b)) ordered++;
        }
        return new long[]{concurrent, ordered};
    }

    interface PairCompare { int compare(int a, int b); }

    /**
     * Samples event pairs (fixed seed) and counts those the clock orders against real time (pairs
     * the clock leaves unordered are not counted): what a reader of a log sorted by this clock would
     * take for "b happened before c" when c came first.
     */
    private static long[] realTimeInversions(EventGraph g, PairCompare clock) {
        int n = g.events().size();
        if (n < 2) return new long[]{0, 0};
        Random r = new Random(43);
        long sampled = 0, inverted = 0;
        for (int i = 0; i < 4000; i++) {
            int a = r.nextInt(n), b = r.nextInt(n);
            if (a == b) continue;
            sampled++;
            int byClock = clock.compare(a, b);
            int byTruth = Long.compare(g.events().get(a).trueNanos(), g.events().get(b).trueNanos());
            if (byClock != 0 && byTruth != 0 && Integer.signum(byClock) != Integer.signum(byTruth)) inverted++;
        }
        return new long[]{sampled, inverted};
    }

    private static String render(Clock c, long v) {
        return switch (c) {
            case PHYSICAL -> java.time.Instant.ofEpochSecond(0, v).toString();
            case HLC, HLC_CONNECT_ONLY -> HlcTimestamp.toSortableString(v);
            default -> Long.toString(v);
        };
    }

    private static String describe(EventGraph g, Clock c, EventGraph.Edge e, String from, String to) {
        EventGraph.Event a = g.events().get(e.from()), b = g.events().get(e.to());
        return String.format(Locale.ROOT, "%s %s #%d (%s) -> %s %s #%d (%s): %s edge, but %s is not before %s",
                a.lane(), a.kind(), a.seq(), from, b.lane(), b.kind(), b.seq(), to, e.kind().name().toLowerCase(Locale.ROOT), from, to);
    }

    /** Human form of a duration in nanoseconds: "2 h 0 min 0.000 s", "350.123 ms", "12 us". */
    public static String human(long nanos) {
        long a = Math.abs(nanos);
        String sign = nanos < 0 ? "-" : "";
        if (a >= 3_600_000_000_000L) {
            Duration d = Duration.ofNanos(a);
            return String.format(Locale.ROOT, "%s%d h %02d min %06.3f s", sign, d.toHours(), d.toMinutesPart(), d.toSecondsPart() + d.toNanosPart() / 1e9);
        }
        if (a >= 1_000_000_000L) return String.format(Locale.ROOT, "%s%.3f s", sign, a / 1e9);
        if (a >= 1_000_000L) return String.format(Locale.ROOT, "%s%.3f ms", sign, a / 1e6);
        return String.format(Locale.ROOT, "%s%.0f us", sign, a / 1e3);
    }

    /** The comparison as a markdown table, one row per clock. */
    public static String markdownTable(Comparison c) {
        StringBuilder sb = new StringBuilder();
        sb.append("| clock | causality violations (edges going backwards) | on message edges | distance from real time: largest ahead / largest behind / median | events more than 1 s off real time | bytes per timestamp | tells concurrent events apart | sampled pairs ordered against real time |\n");
        sb.append("|---|--:|--:|---|--:|---|---|--:|\n");
        for (Result r : c.results()) {
            String dist = r.maxAheadNanos() == null ? "n/a (not a time)"
                    : human(Math.max(0, r.maxAheadNanos())) + " / " + human(Math.max(0, r.maxBehindNanos())) + " / " + human(r.medianAbsDistanceNanos());
            String bytes = r.clock() == Clock.VECTOR ? String.format(Locale.ROOT, "%.0f mean, %d max (grows with processes)", r.meanBytes(), r.maxBytes()) : "8";
            String apart = r.tellsConcurrentApart() ? String.format(Locale.ROOT, "yes (%d of %d sampled concurrent pairs shown concurrent)", r.concurrentPairsSampled() - r.concurrentPairsOrdered(), r.concurrentPairsSampled())
                    : String.format(Locale.ROOT, "no (orders %d of %d sampled concurrent pairs)", r.concurrentPairsOrdered(), r.concurrentPairsSampled());
            String far = r.eventsOverOneSecondOff() == null ? "n/a" : r.eventsOverOneSecondOff() + " of " + c.graph().events().size();
            sb.append(String.format(Locale.ROOT, "| %s | %d of %d | %d of %d | %s | %s | %s | %s | %d of %d |%n", r.clock().title, r.violations(), r.edges(),
                    r.messageViolations(), c.graph().messageEdges(), dist, far, bytes, apart, r.realTimeInversions(), r.pairsSampled()));
        }
        return sb.toString();
    }
}
