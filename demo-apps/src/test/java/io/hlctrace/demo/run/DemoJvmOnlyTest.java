package io.hlctrace.demo.run;

import io.hlctrace.demo.compare.ClockComparison;
import io.hlctrace.demo.compare.ClockComparison.Clock;
import io.hlctrace.timeline.ClockKind;
import io.hlctrace.timeline.Event;
import io.hlctrace.timeline.EventLogs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The recorded comparison: real JVM services with the real agent jar, three executors with the
 * demo's clock errors, then the five clocks on the events they logged.
 */
@Timeout(120)
class DemoJvmOnlyTest {

    static Path agentJarOrSkip() {
        try {
            return Demo.findAgentJar();
        } catch (IOException e) {
            assumeTrue(false, "the agent jar is not built, so there is nothing to record (" + e.getMessage() + ")");
            return null;
        }
    }

    @Test
    void recordedRunOrdersEverythingByHlcAndBreaksByWallClock(@TempDir Path out) throws Exception {
        Path agent = agentJarOrSkip();
        long start = System.currentTimeMillis();
        Demo.Outcome o = Demo.runJvmOnly(out, 40, agent);
        assertTrue(o.variant().contains("loopback"), o.variant());
        assertRecordedRunMatchesTheory(o, System.currentTimeMillis() - start);
    }

    /** What theory says about a recorded demo run, shared with the namespace variant's test. */
    static void assertRecordedRunMatchesTheory(Demo.Outcome o, long elapsedMillis) throws IOException {
        ClockComparison.Comparison c = o.comparison();
        String table = ClockComparison.markdownTable(c);

        List<Event> events = EventLogs.readAll(o.logs());
        Set<String> nodesWithReceives = events.stream().filter(Event::isRecv).map(Event::node).collect(Collectors.toSet());
        assertEquals(Set.of("A", "B", "C"), nodesWithReceives, "the workload's chains cross all three executors");
        assertTrue(o.messages() >= 40 * 4, "every request is at least four messages; got " + o.messages());

        assertEquals(0, o.violations().get(Clock.HLC), table);
        assertEquals(0, o.violations().get(Clock.LAMPORT), table);
        assertEquals(0, o.violations().get(Clock.VECTOR), table);
        assertTrue(o.violations().get(Clock.PHYSICAL) > 0, "B is two hours behind: ordering by wall clock must break\n" + table);
        assertTrue(c.get(Clock.HLC_CONNECT_ONLY).messageViolations() > 0, "kept-alive connections break the connect-only HLC\n" + table);
        assertEquals(0, o.timelineVerifyExit(), "hlctrace timeline verify agrees");
        // the timeline's verifier, given the computed clocks, counts the same violations
        assertEquals(0L, o.timelineViolations().get(ClockKind.LAMPORT));
        assertEquals(0L, o.timelineViolations().get(ClockKind.VECTOR));
        assertEquals(0L, o.timelineViolations().get(ClockKind.HLC));
        assertEquals(o.violations().get(Clock.PHYSICAL), o.timelineViolations().get(ClockKind.WALL), table);

        // the HLC never runs further ahead of real time than C's clock (350 ms + 50 ppm), plus the time
        // a message takes between a stamp and the real-time estimate (well under 50 ms here)
        long bound = Duration.ofMillis(350).toNanos() + elapsedMillis * 50_000L / 1000 + Duration.ofMillis(50).toNanos();
        assertTrue(c.get(Clock.HLC).maxAheadNanos() <= bound, "HLC ahead of real time by " + ClockComparison.human(c.get(Clock.HLC).maxAheadNanos()) + "\n" + table);

        assertTrue(Files.readString(o.report()).contains("<svg") || Files.size(o.report()) > 10_000, "report.html was written");
        assertTrue(Files.readString(o.comparisonFile()).contains("(e) hlctrace HLC on every message"));
        assertTrue(Files.size(o.shiviz()) > 0 && Files.size(o.merged()) > 0);
        assertTrue(Demo.summary(o).contains("violations"), Demo.summary(o));
    }
}
