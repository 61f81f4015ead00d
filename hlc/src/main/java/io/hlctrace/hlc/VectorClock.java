package io.hlctrace.hlc;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable vector clock over named processes. Absent entries are 0. It tells causally related
 * events from concurrent ones, at the price of one entry per process in every timestamp.
 */
public final class VectorClock {
    public static final VectorClock ZERO = new VectorClock(new TreeMap<>());

    private final SortedMap<String, Long> entries;

    private VectorClock(SortedMap<String, Long> entries) {
        this.entries = entries;
    }

    public static VectorClock of(Map<String, Long> entries) {
        TreeMap<String, Long> m = new TreeMap<>();
        entries.forEach((k, v) -> { if (v < 0) throw new IllegalArgumentException("negative entry for " + k); if (v != 0) m.put(k, v); });
        return new VectorClock(m);
    }

    public long get(String process) { return entries.getOrDefault(process, 0L); }

    /** A local or send event of {@code process}. */
    public VectorClock tick(String process) {
        TreeMap<String, Long> m = new TreeMap<>(entries);
        m.merge(process, 1L, Long::sum);
        return new VectorClock(m);
    }

    /** Entry-wise maximum, without ticking. */
    public VectorClock merge(VectorClock other) {
        TreeMap<String, Long> m = new TreeMap<>(entries);
        other.entries.forEach((k, v) -> m.merge(k, v, Math::max));
        return new VectorClock(m);
    }

    /** The receive by {@code process} of a message stamped {@code remote}. */
    public VectorClock receive(String process, VectorClock remote) {
        return merge(remote).tick(process);
    }

    public Causality compare(VectorClock other) {
        boolean less = false, greater = false;
        TreeMap<String, Long> keys = new TreeMap<>(entries);
        other.entries.forEach((k, v) -> keys.putIfAbsent(k, 0L));
        for (String k : keys.keySet()) {
            long a = get(k), b = other.get(k);
            if (a < b) less = true;
            else if (a > b) greater = true;
        }
        if (less && greater) return Causality.CONCURRENT;
        if (less) return Causality.BEFORE;
        if (greater) return Causality.AFTER;
        return Causality.EQUAL;
    }

    public Map<String, Long> entries() { return Collections.unmodifiableSortedMap(entries); }

    /** Bytes this timestamp takes on the wire at 8 bytes per entry plus the process names. */
    public int encodedSize() {
        int n = 0;
        for (String k : entries.keySet()) n += 8 + k.length();
        return n;
    }

    @Override
    public boolean equals(Object o) { return o instanceof VectorClock v && v.entries.equals(entries); }

    @Override
    public int hashCode() { return entries.hashCode(); }

    /** ShiViz's form: {"p1":3,"p2":1}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        entries.forEach((k, v) -> {
            if (sb.length() > 1) sb.append(", ");
            EventLogLine.appendJsonString(sb, k);
            sb.append(':').append(v);
        });
        return sb.append('}').toString();
    }
}
