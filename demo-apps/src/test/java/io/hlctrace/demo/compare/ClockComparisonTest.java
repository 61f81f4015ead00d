package io.hlctrace.demo.compare;

import io.hlctrace.demo.compare.ClockComparison.Clock;
import io.hlctrace.demo.compare.ClockComparison.Comparison;
import io.hlctrace.demo.compare.ClockComparison.Result;
import io.hlctrace.hlc.HlcTimestamp;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What theory says about the five clocks, checked on simulated runs stamped by the real hlc
 * classes, where the real time of every event is known.
 */
class ClockComparisonTest {

    private static void assertNoViolations(Comparison c, Clock clock) {
        Result r = c.get(clock);
        assertEquals(0, r.violations(), clock.title + " must order every happened-before edge; first violation: " + r.firstViolation()
                + "\n" + ClockComparison.markdownTable(c));
    }

    /** HLC l never runs further ahead of real time than the most-ahead physical clock (plus one l unit). */
    private static void assertHlcWithinSkewBound(Comparison c, long maxAheadSkewNanos) {
        Result e = c.get(Clock.HLC);
        assertTrue(e.maxAheadNanos() <= maxAheadSkewNanos + HlcTimestamp.NANOS_PER_L_UNIT_CEIL,
                "HLC ran " + ClockComparison.human(e.maxAheadNanos()) + " ahead of real time, beyond the skew bound " + ClockComparison.human(maxAheadSkewNanos));
        // and never behind the executor's own physical clock: HLC is never worse than pt
        for (EventGraph.Event ev : c.graph().events()) {
            assertTrue(HlcTimestamp.compare(ev.hlc(), HlcTimestamp.fromNanos(ev.pt())) >= 0, "HLC below its own physical clock at " + ev);
        }
    }

    private static long demoAheadBound(Simulation sim) {
        long elapsed = sim.now() - Scenarios.EIGHT_TWENTY;
        return Scenarios.C_AHEAD + (long) Math.ceil(elapsed * Scenarios.C_DRIFT_PPM / 1e6);
    }

    @Test
    void keepAliveConnectionsUnderTheDemoSkews() {
        Simulation sim = Scenarios.demoTopology(Scenarios.Connections.KEEP_ALIVE, 200, 1, Scenarios.DEMO_MAX_OFFSET);
        Comparison c = ClockComparison.compare(sim.graph());
        assertNoViolations(c, Clock.LAMPORT);
        assertNoViolations(c, Clock.VECTOR);
        assertNoViolations(c, Clock.HLC);
        assertTrue(c.get(Clock.PHYSICAL).messageViolations() > 0, "wall clocks 2 h apart must put receives before their sends");
        assertTrue(c.get(Clock.HLC_CONNECT_ONLY).messageViolations() > 0,
                "an HLC merged only at connect/accept must break on kept-alive connections\n" + ClockComparison.markdownTable(c));
        assertHlcWithinSkewBound(c, demoAheadBound(sim));
        // a third of the wall-clock stamps (all of B's) are 2 h off; the HLC is that far off only before B first hears from anyone
        assertTrue(c.get(Clock.PHYSICAL).eventsOverOneSecondOff() > c.graph().events().size() / 4, ClockComparison.markdownTable(c));
        assertTrue(c.get(Clock.HLC).eventsOverOneSecondOff() * 50 < c.get(Clock.PHYSICAL).eventsOverOneSecondOff(), ClockComparison.markdownTable(c));
        assertEquals(0, sim.refusedCount());
    }

    @Test
    void pooledConnectionsUnderTheDemoSkews() {
        Simulation sim = Scenarios.demoTopology(Scenarios.Connections.POOLED, 200, 2, Scenarios.DEMO_MAX_OFFSET);
        Comparison c = ClockComparison.compare(sim.graph());
        assertNoViolations(c, Clock.LAMPORT);
        assertNoViolations(c, Clock.VECTOR);
        assertNoViolations(c, Clock.HLC);
        assertTrue(c.get(Clock.PHYSICAL).messageViolations() > 0);
        assertTrue(c.get(Clock.HLC_CONNECT_ONLY).messageViolations() > 0, ClockComparison.markdownTable(c));
        assertHlcWithinSkewBound(c, demoAheadBound(sim));
    }

    @Test
    void onlyVectorClocksTellConcurrentEventsApartAndTheyPayInBytes() {
        Simulation sim = Scenarios.seed000(10, Scenarios.DEMO_MAX_OFFSET);
        Comparison c = ClockComparison.compare(sim.graph());
        Result v = c.get(Clock.VECTOR);
        assertTrue(v.concurrentPairsSampled() > 100, "the scenario must have concurrent events to tell apart");
        assertEquals(0, v.concurrentPairsOrdered(), "vector clocks show every concurrent pair as concurrent");
        for (Clock scalar : new Clock[]{Clock.PHYSICAL, Clock.LAMPORT, Clock.HLC}) {
            Result r = c.get(scalar);
            assertTrue(r.concurrentPairsOrdered() > r.concurrentPairsSampled() / 2, scalar.title + " gives concurrent events an order");
            assertEquals(8, r.maxBytes());
        }
        assertTrue(v.maxBytes() > 8 * 3, "a vector clock of three processes takes more than one word: " + v.maxBytes());
    }

    /**
     * shared/seeds/000: a and c read 8:20, b reads 6:20 (and keeps drifting), all start from a shared
     * HLC of 8:19. Sorting by wall clock puts b's events before c's and c's sends after b's receives;
     * merging only at connect orders the first message on the connection and breaks the rest;
     * hlctrace orders every causally related pair, including all later events.
     */
    @Test
    void seed000FailureCaseIsOrderedByHlctrace() {
        Simulation sim = Scenarios.seed000(20, Scenarios.DEMO_MAX_OFFSET);
        Comparison c = ClockComparison.compare(sim.graph());
        // the wall-clock disorder of the report: c's message reaches b "before" c sent it, every round
        assertEquals(c.graph().messageEdges() / 2, c.get(Clock.PHYSICAL).messageViolations(), "every c->b message is a wall-clock violation");
        assertTrue(c.get(Clock.PHYSICAL).realTimeInversions() > 100, "the wall clocks order many pairs against real time");
        // the connect-only timer: b's clock stays at the value merged at accept, so later messages break
        assertTrue(c.get(Clock.HLC_CONNECT_ONLY).messageViolations() >= 19, ClockComparison.markdownTable(c));
        assertNoViolations(c, Clock.HLC);
        assertNoViolations(c, Clock.LAMPORT);
        assertNoViolations(c, Clock.VECTOR);
        // the remaining real-time inversions of the HLC are between concurrent events only (no edge breaks)
        assertTrue(c.get(Clock.HLC).realTimeInversions() < c.get(Clock.PHYSICAL).realTimeInversions() / 5, ClockComparison.markdownTable(c));
        // every later event on b sorts after the last message it received, however far b drifts
        EventGraph g = c.graph();
        long lastReceive = -1;
        for (EventGraph.Event e : g.events()) {
            if (!e.node().equals("b")) continue;
            if (e.kind().equals("recv")) lastReceive = e.hlc();
            else if (lastReceive != -1) assertTrue(HlcTimestamp.compare(e.hlc(), lastReceive) > 0, "b event after a receive sorts before it: " + e);
        }
    }

    @Test
    void clocksThatDriftAgainAfterASync() {
        Simulation sim = Scenarios.driftAfterSync(30, Scenarios.DEMO_MAX_OFFSET);
        Comparison c = ClockComparison.compare(sim.graph());
        assertTrue(c.get(Clock.PHYSICAL).messageViolations() > 0, "B's drift outgrows the latency between syncs");
        assertNoViolations(c, Clock.HLC);
        assertNoViolations(c, Clock.LAMPORT);
        // nobody is ahead of real time here, so neither may the HLC be
        assertHlcWithinSkewBound(c, 0);
        // between syncs B falls up to 0.6 s behind; its HLC, fed by A's messages, stays within a few ms
        assertTrue(c.get(Clock.PHYSICAL).maxBehindNanos() > Duration.ofMillis(500).toNanos());
        assertTrue(c.get(Clock.HLC).maxBehindNanos() < Duration.ofMillis(20).toNanos(), ClockComparison.markdownTable(c));
    }

    /**
     * The other side of the guard: with B two hours behind, no clock sync and a 500 ms max offset, B
     * refuses every timestamp from A and C. Each refusal is counted, and the refused receives are
     * exactly the HLC's violations: the guard trades order for safety, which is why hlctrace pairs it
     * with clock sync and fail-stop (docs/comparison.md).
     */
    @Test
    void guardRefusalsAreCountedAndAreTheOnlyViolations() {
        Simulation sim = Scenarios.demoTopology(Scenarios.Connections.KEEP_ALIVE, 50, 1, Duration.ofMillis(500));
        Comparison c = ClockComparison.compare(sim.graph());
        assertTrue(sim.refusedCount() > 0);
        assertEquals(sim.refusedCount(), c.get(Clock.HLC).messageViolations(), ClockComparison.markdownTable(c));
        assertEquals(c.get(Clock.HLC).messageViolations(), c.get(Clock.HLC).violations(), "process order is never broken");
    }
}
