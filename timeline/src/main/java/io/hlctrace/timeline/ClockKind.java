package io.hlctrace.timeline;

import io.hlctrace.hlc.Causality;

import java.util.Comparator;
import java.util.Locale;

/**
 * The clocks a log can be ordered by. {@link #HLC}, {@link #WALL} and {@link #LAMPORT} are total
 * orders: the clock value, then the documented tie-break (node, proc, seq), so the order is the
 * same on every run. {@link #VECTOR} is the partial order of vector clocks: an edge goes forward
 * when the sender's vector is strictly before the receiver's.
 */
public enum ClockKind {
    /** The HLC word, compared unsigned (docs/hlc-encoding.md). */
    HLC,
    /** {@code pt}: the executor's physical clock, what ordering by wall-clock timestamps does. */
    WALL,
    /** The {@code lamport} field (demo comparison runs). */
    LAMPORT,
    /** The {@code vc} field (demo comparison runs). */
    VECTOR;

    /** The total order by HLC with the tie-break node, proc, seq: the order of {@code merge}. */
    public static final Comparator<Event> HLC_ORDER = HLC::compare;

    public static ClockKind parse(String s) {
        for (ClockKind k : values()) if (k.name().equalsIgnoreCase(s)) return k;
        throw new IllegalArgumentException("unknown clock \"" + s + "\": expected wall, lamport, vector or hlc");
    }

    public String label() { return name().toLowerCase(Locale.ROOT); }

    /** Whether the event carries this clock's value. */
    public boolean carriedBy(Event e) {
        return switch (this) {
            case HLC, WALL -> true;
            case LAMPORT -> e.lamport() >= 0;
            case VECTOR -> e.vc() != null;
        };
    }

    /**
     * The total order under this clock: value, then node, proc, seq. For {@link #VECTOR}, the sum
     * of the entries, which extends the vector order (a strictly smaller vector has a smaller sum).
     */
    public int compare(Event a, Event b) {
        int c = switch (this) {
            case HLC -> Long.compareUnsigned(a.hlc(), b.hlc());
            case WALL -> Long.compare(a.pt(), b.pt());
            case LAMPORT -> Long.compare(a.lamport(), b.lamport());
            case VECTOR -> Long.compare(vectorSum(a), vectorSum(b));
        };
        return c != 0 ? c : tieBreak(a, b);
    }

    /** The documented tie-break: node, then proc, then seq. */
    public static int tieBreak(Event a, Event b) {
        int c = a.node().compareTo(b.node());
        if (c != 0) return c;
        c = a.proc().compareTo(b.proc());
        if (c != 0) return c;
        return Long.compare(a.seq(), b.seq());
    }

    /** Whether the edge from -> to goes forward under this clock. */
    public boolean forward(Event from, Event to) {
        if (this == VECTOR) return from.vc().compare(to.vc()) == Causality.BEFORE;
        return compare(from, to) < 0;
    }

    private static long vectorSum(Event e) {
        if (e.vc() == null) return -1;
        long s = 0;
        for (long x : e.vc().entries().values()) s += x;
        return s;
    }
}
