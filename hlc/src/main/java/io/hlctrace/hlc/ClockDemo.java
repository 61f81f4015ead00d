package io.hlctrace.hlc;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code hlctrace clock}: a one-screen demonstration of the HLC under skewed clocks. Three nodes,
 * A correct, B two hours behind, C 350 ms ahead, pass a request around the ring A -> B -> C -> A.
 * Ordered by their own wall clocks, effects come before their causes; ordered by HLC they don't,
 * and the HLC stays within the skew of real time.
 */
public final class ClockDemo {
    private record Event(String node, String what, long wall, long hlc, int causeIndex) {}

    public static void main(String[] args) {
        ManualPhysicalClock real = new ManualPhysicalClock(Instant.parse("2026-11-23T08:20:00Z").toEpochMilli() * 1_000_000L);
        String[] names = {"A", "B", "C"};
        long[] skew = {0, -Duration.ofHours(2).toNanos(), Duration.ofMillis(350).toNanos()};
        HybridLogicalClock[] clocks = new HybridLogicalClock[3];
        PhysicalClock[] wall = new PhysicalClock[3];
        for (int i = 0; i < 3; i++) {
            wall[i] = new SkewedPhysicalClock(real, skew[i]);
            // guard off: B is hours behind and this demo shows what the clock does, not the sync
            clocks[i] = new HybridLogicalClock(new AtomicClockCell(), wall[i], HybridLogicalClock.GUARD_OFF);
        }
        List<Event> events = new ArrayList<>();
        long carried = 0;
        int cause = -1;
        for (int hop = 0; hop < 6; hop++) {
            int from = hop % 3, to = (hop + 1) % 3;
            real.advance(Duration.ofMillis(3).toNanos());
            if (hop > 0) {
                long recv = clocks[from].update(carried).timestamp();
                events.add(new Event(names[from], "recv from " + names[(from + 2) % 3], wall[from].nanos(), recv, cause));
            }
            real.advance(Duration.ofMillis(1).toNanos());
            long send = clocks[from].now();
            events.add(new Event(names[from], "send to " + names[to], wall[from].nanos(), send, events.size() - 1));
            carried = send;
            cause = events.size() - 1;
            real.advance(Duration.ofMillis(2).toNanos()); // network delay
        }
        System.out.println("Three nodes: A correct, B 2 h behind, C 350 ms ahead; a request passed around A -> B -> C -> A.\n");
        print("Ordered by each node's wall clock:", events, Comparator.comparingLong(Event::wall));
        print("Ordered by HLC:", events, (a, b) -> HlcTimestamp.compare(a.hlc, b.hlc));
        long maxAhead = 0;
        for (Event e : events) maxAhead = Math.max(maxAhead, HlcTimestamp.toNanos(e.hlc) - real.nanos());
        System.out.printf("HLC ran at most %d ms ahead of real time (the largest skew is +350 ms).%n", maxAhead / 1_000_000);
    }

    private static void print(String title, List<Event> events, Comparator<Event> order) {
        List<Event> sorted = new ArrayList<>(events);
        sorted.sort(order);
        System.out.println(title);
        int violations = 0;
        for (int pos = 0; pos < sorted.size(); pos++) {
            Event e = sorted.get(pos);
            boolean effectFirst = e.causeIndex >= 0 && sorted.indexOf(events.get(e.causeIndex)) > pos;
            if (effectFirst) violations++;
            System.out.printf("  %s  %-12s wall %s  hlc %s%s%n", e.node, e.what, Instant.ofEpochSecond(0, e.wall),
                    HlcTimestamp.toSortableString(e.hlc), effectFirst ? "   <- before its cause" : "");
        }
        System.out.println("  causality violations: " + violations + "\n");
    }
}
