package io.hlctrace.hlc;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LogicalClocksTest {

    @Test
    void lamportTicksAndMerges() {
        LamportClock a = new LamportClock(), b = new LamportClock();
        long s = a.tick();
        a.tick();
        assertEquals(2, a.peek());
        assertEquals(s + 1, b.receive(s));
        assertEquals(8, b.receive(7), "max(local, remote) + 1");
        assertEquals(9, b.receive(3));
    }

    @Test
    void vectorClocksTellConcurrentFromOrdered() {
        VectorClock a1 = VectorClock.ZERO.tick("a");
        VectorClock b1 = VectorClock.ZERO.tick("b");
        assertEquals(Causality.CONCURRENT, a1.compare(b1));
        VectorClock b2 = b1.receive("b", a1);
        assertEquals(Causality.BEFORE, a1.compare(b2));
        assertEquals(Causality.AFTER, b2.compare(a1));
        assertEquals(Causality.EQUAL, b2.compare(VectorClock.of(Map.of("a", 1L, "b", 2L))));
        assertEquals(Map.of("a", 1L, "b", 2L), b2.entries());
        assertEquals("{\"a\":1, \"b\":2}", b2.toString());
        assertEquals(Causality.CONCURRENT, b2.compare(VectorClock.of(Map.of("a", 2L, "b", 1L))));
        assertThrows(IllegalArgumentException.class, () -> VectorClock.of(Map.of("a", -1L)));
    }

    @Test
    void eventLogLineEscapesAndUsesTheSchemaNames() {
        String line = new EventLogLine().hlc(0x0123456789abcdefL).str(EventLogLine.NODE, "A \"quoted\"\n")
                .num(EventLogLine.SEQ, 3).conn("tcp", "10.0.0.1:1", "[::1]:2").range(EventLogLine.OFF, 0, 10).end();
        assertEquals("{\"v\":1,\"hlc\":\"0123456789abcdef\",\"node\":\"A \\\"quoted\\\"\\n\",\"seq\":3,"
                + "\"conn\":{\"proto\":\"tcp\",\"local\":\"10.0.0.1:1\",\"remote\":\"[::1]:2\"},\"off\":[0,10]}", line);
    }
}
