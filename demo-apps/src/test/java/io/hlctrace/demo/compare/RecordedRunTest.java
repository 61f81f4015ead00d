package io.hlctrace.demo.compare;

import io.hlctrace.demo.compare.ClockComparison.Clock;
import io.hlctrace.hlc.SkewedPhysicalClock;
import io.hlctrace.timeline.ClockKind;
import io.hlctrace.timeline.Event;
import io.hlctrace.timeline.Verify;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulated runs written as event logs and read back through the timeline's reader and graph. */
class RecordedRunTest {

    @Test
    void logsReadBackThroughTheTimelineGiveTheSameComparison(@TempDir Path dir) throws Exception {
        Simulation sim = Scenarios.demoTopology(Scenarios.Connections.KEEP_ALIVE, 100, 3, Scenarios.DEMO_MAX_OFFSET);
        EventGraph truth = sim.graph();
        Map<String, Long> realTime = new HashMap<>();
        for (EventGraph.Event e : truth.events()) realTime.put(e.lane() + "#" + e.seq(), e.trueNanos());
        List<Path> logs = sim.writeLogs(dir);
        RecordedRun run = RecordedRun.read(logs, e -> realTime.get(e.lane() + "#" + e.seq()));

        assertEquals(0, run.diagnostics().errorCount(), run.diagnostics().toString());
        assertEquals(truth.events().size(), run.graph().events().size());
        assertEquals(truth.messageEdges(), run.graph().messageEdges(), "the timeline pairs every simulated message");
        assertEquals(truth.edges().size(), run.graph().edges().size());

        ClockComparison.Comparison fromMemory = ClockComparison.compare(truth);
        ClockComparison.Comparison fromLogs = ClockComparison.compare(run.graph());
        for (Clock c : Clock.values()) {
            assertEquals(fromMemory.get(c).violations(), fromLogs.get(c).violations(), c.title);
            assertEquals(fromMemory.get(c).maxAheadNanos(), fromLogs.get(c).maxAheadNanos(), c.title);
        }
        assertTrue(fromLogs.get(Clock.HLC_CONNECT_ONLY).violations() > 0, "connect/accept pairs are found from the logged conn fields");

        // an independent check: the timeline's verifier on the events with the computed clocks
        List<Event> annotated = run.withLogicalClocks(fromLogs);
        assertEquals(0, Verify.check(annotated, ClockKind.LAMPORT).violationCount());
        assertEquals(0, Verify.check(annotated, ClockKind.VECTOR).violationCount());
        assertEquals(0, Verify.check(annotated, ClockKind.HLC).violationCount());
        assertEquals(fromLogs.get(Clock.PHYSICAL).violations(), Verify.check(annotated, ClockKind.WALL).violationCount());
        assertEquals(annotated.size(), Verify.check(annotated, ClockKind.LAMPORT).events());
    }

    @Test
    void realTimeIsRecoveredFromASkewedDriftingClock() {
        long epoch = 1_763_880_000_000_000_000L;
        for (long t : new long[]{epoch, epoch + 1_000_000_000L, epoch + 3_600_000_000_000L}) {
            long pt = SkewedPhysicalClock.apply(t, 350_000_000L, 50_000, epoch);
            assertEquals(t, RecordedRun.realTimeOf(pt, 350_000_000L, 50, epoch), 2);
            long pt2 = SkewedPhysicalClock.apply(t, -7_200_000_000_000L, 0, epoch);
            assertEquals(t, RecordedRun.realTimeOf(pt2, -7_200_000_000_000L, 0, epoch));
        }
    }
}
