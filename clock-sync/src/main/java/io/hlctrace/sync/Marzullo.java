package io.hlctrace.sync;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Marzullo's intersection algorithm (K. Marzullo, 1984; the core of NTP's selection step): given
 * one interval per time source, find the smallest interval that the greatest number of sources
 * contain.
 *
 * <p>Intervals are closed, so two intervals that only touch ([8, 12] and [12, 14]) agree on the
 * point 12: at an equal offset, starts are processed before ends. When several disjoint intervals
 * are agreed by the same greatest number of sources, the one with the smallest offsets is
 * returned, as in the textbook algorithm, and {@link Result#ties()} counts the others (a tie can
 * still be a majority when a wide source spans both, e.g. [8, 9], [8, 12], [10, 12]).
 */
public final class Marzullo {
    private Marzullo() {}

    /** One source's claim: the true value lies in [lo, hi]. */
    public record Interval(String source, long lo, long hi) {
        public Interval {
            if (lo > hi) throw new IllegalArgumentException("interval of " + source + " is empty: [" + lo + ", " + hi + "]");
        }

        public boolean contains(long lo, long hi) { return this.lo <= lo && hi <= this.hi; }
    }

    /**
     * The interval [lo, hi] that {@code agreeing} of {@code total} sources contain, and which sources
     * those are (in input order); {@code ties} other disjoint intervals had as many sources.
     */
    public record Result(long lo, long hi, int agreeing, int total, List<String> members, int ties) {
        /** More than half of all sources agree. */
        public boolean majority() { return agreeing > total / 2; }

        public long midpoint() { return lo + (hi - lo) / 2; }

        public long width() { return hi - lo; }
    }

    /** Runs the algorithm; an empty input has no result. */
    public static Result intersect(List<Interval> intervals) {
        if (intervals.isEmpty()) throw new IllegalArgumentException("Marzullo's algorithm needs at least one interval");
        int n = intervals.size();
        // edges as (offset, type): type -1 opens an interval, +1 closes it; sorting by (offset, type)
        // puts opens before closes at the same offset, which makes the intervals closed.
        long[][] edges = new long[2 * n][];
        for (int i = 0; i < n; i++) {
            Interval iv = intervals.get(i);
            edges[2 * i] = new long[] {iv.lo(), -1};
            edges[2 * i + 1] = new long[] {iv.hi(), +1};
        }
        Arrays.sort(edges, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int best = 0;
        int count = 0;
        int ties = 0;
        long bestLo = 0;
        long bestHi = 0;
        for (int i = 0; i < edges.length; i++) {
            count -= (int) edges[i][1];
            if (edges[i][1] == -1 && i + 1 < edges.length) {
                if (count > best) {
                    best = count;
                    ties = 0;
                    bestLo = edges[i][0];
                    bestHi = edges[i + 1][0];
                } else if (count == best && edges[i + 1][1] == +1) {
                    // the same depth again, on an interval that actually closes next: a disjoint tie
                    // unless it continues the best one (opens at the same offset as it)
                    if (edges[i][0] > bestHi) ties++;
                }
            }
        }
        List<String> members = new ArrayList<>();
        for (Interval iv : intervals) {
            if (iv.contains(bestLo, bestHi)) members.add(iv.source());
        }
        return new Result(bestLo, bestHi, best, n, List.copyOf(members), ties);
    }
}
