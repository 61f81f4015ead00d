package io.hlctrace.timeline;

import io.hlctrace.hlc.EventLogLine;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** Byte-range pairing of sends and receives without msg ids (plain connections, the kernel probe). */
class PairingTest {
    static Event io(String node, long seq, String kind, long hlc, String local, String remote, long start, long end) {
        return new Event(1, hlc, node, "p:1", seq, kind, 1L, EventLogLine.SRC_PROBE, null, "tcp", local, remote, end - start, start, end,
                0, false, false, -1, null, 0, null, node + ".log", seq);
    }

    @Test
    void splitAndCoalescedReadsPairWithEveryOverlappingSend() {
        String a = "10.0.0.1:5000", b = "10.0.0.2:80";
        List<Event> events = List.of(
                io("A", 1, "send", 100, a, b, 0, 100),
                io("A", 2, "send", 101, a, b, 100, 150),
                io("A", 3, "send", 102, a, b, 150, 400),
                io("B", 1, "recv", 200, b, a, 0, 60),     // first part of send 1
                io("B", 2, "recv", 201, b, a, 60, 300),   // rest of send 1, all of send 2, part of send 3
                io("B", 3, "recv", 202, b, a, 300, 400),  // rest of send 3
                io("B", 4, "send", 203, b, a, 0, 10),     // the reply direction: nobody receives it
                io("A", 4, "recv", 300, a, "10.0.0.9:1", 0, 5)); // another connection: no send logged
        HappenedBefore hb = HappenedBefore.of(events);
        Set<String> edges = hb.messageEdges().stream().map(e -> e.from().node() + e.from().seq() + ">" + e.to().node() + e.to().seq())
                .collect(Collectors.toSet());
        assertEquals(Set.of("A1>B1", "A1>B2", "A2>B2", "A3>B2", "A3>B3"), edges);
        assertEquals(1, hb.unmatchedSends(), "the reply nobody read");
        assertEquals(1, hb.unmatchedRecvs(), "the read of an unlogged sender");
        assertTrue(Verify.check(events, ClockKind.HLC).consistent());
    }

    @Test
    void receiveSeenBeforeItsSendStillPairsAndIsAViolation() {
        String a = "10.0.0.1:5000", b = "10.0.0.2:80";
        List<Event> edges = new ArrayList<>();
        Diagnostics d = new Diagnostics();
        EdgeFinder f = new EdgeFinder((from, to, kind) -> { if (kind == Edge.Kind.MESSAGE) { edges.add(from); edges.add(to); } }, d);
        Event recv = io("B", 1, "recv", 50, b, a, 0, 10);
        Event send = io("A", 1, "send", 100, a, b, 0, 10);
        f.accept(recv);
        f.accept(send);
        f.finish();
        assertEquals(List.of(send, recv), edges);
        assertEquals(0, f.unmatchedSends() + f.unmatchedRecvs());
        Verify.Result r = Verify.check(List.of(recv, send), ClockKind.HLC);
        assertEquals(1, r.violationCount());
        assertTrue(r.violations().get(0).describe().contains("A.log:1") && r.violations().get(0).describe().contains("B.log:1"));
    }

    @Test
    void openSendsAreCappedAndCountedAsUnmatched() {
        List<Event> seen = new ArrayList<>();
        EdgeFinder f = new EdgeFinder((from, to, kind) -> seen.add(to), new Diagnostics(), 100);
        for (int i = 1; i <= 1000; i++) {
            f.accept(new Event(1, i, "A", "p", i, "send", 1, "agent", String.format("%016x", i), null, null, null, 1, -1, -1,
                    0, false, false, -1, null, 0, null, "a", i));
        }
        f.finish();
        assertEquals(1000, f.unmatchedSends());
        assertEquals(900, f.evicted(), "at most 100 open at once");
        assertEquals(999, seen.size(), "process edges still found");
    }
}
