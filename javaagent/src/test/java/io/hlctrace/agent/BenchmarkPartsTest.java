package io.hlctrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The benchmark's decomposition switch (-Dhlctrace.benchmark.parts, scripts/bench-agent.sh). */
class BenchmarkPartsTest {
    @Test
    void unsetMeansTheWholeAgent() {
        assertEquals(Stamper.PARTS_ALL, Stamper.benchmarkParts(null));
        // the test JVM runs without the switch: the agent under test does all its work
        assertEquals(Stamper.PARTS_ALL, Stamper.PARTS);
    }

    @Test
    void namedParts() {
        assertEquals(Stamper.PARTS_FRAMING, Stamper.benchmarkParts("framing"));
        assertEquals(Stamper.PARTS_FRAMING_CLOCK, Stamper.benchmarkParts("framing+clock"));
    }

    @Test
    void unknownValueSaysWhatIsKnown() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Stamper.benchmarkParts("clock"));
        assertTrue(e.getMessage().contains("hlctrace.benchmark.parts=clock") && e.getMessage().contains("framing+clock"), e.getMessage());
    }
}
