package io.hlctrace.hlc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The byte writers print exactly what the String path prints. */
class EventLogLineBytesTest {
    private static final long[] EDGES = {0, 1, 9, 10, 99, 100, 101, 999_999_999, 1_000_000_000, 999_999_999_999_999_999L,
            1_000_000_000_000_000_000L, Long.MAX_VALUE, -1, -10, -100, Long.MIN_VALUE + 1, Long.MIN_VALUE};

    @Test
    void decimalIsLongToStringForEdgesAndEveryMagnitude() {
        Random rnd = new Random(3);
        for (long v : EDGES) assertDecimal(v);
        for (long p = 1; p > 0 && p <= Long.MAX_VALUE / 10 * 10; p *= 10) { // around every power of ten and of two
            for (long d = -1; d <= 1; d++) {
                assertDecimal(p + d);
                assertDecimal(-(p + d));
            }
        }
        for (int bit = 0; bit < 63; bit++) {
            for (long d = -1; d <= 1; d++) assertDecimal((1L << bit) + d);
        }
        for (int i = 0; i < 200_000; i++) {
            long v = rnd.nextLong() >> rnd.nextInt(64); // every number of digits, both signs
            assertDecimal(v);
        }
    }

    @Test
    void hexIsHlcTimestampToHex() {
        Random rnd = new Random(4);
        for (long v : EDGES) assertHex(v);
        for (int i = 0; i < 100_000; i++) assertHex(rnd.nextLong() >>> rnd.nextInt(64));
    }

    private static void assertDecimal(long v) {
        byte[] b = new byte[3 + EventLogLine.MAX_DECIMAL_BYTES];
        int end = EventLogLine.writeDecimal(b, 3, v);
        assertEquals(Long.toString(v), new String(b, 3, end - 3, StandardCharsets.US_ASCII));
    }

    private static void assertHex(long v) {
        byte[] b = new byte[5 + 16];
        int end = EventLogLine.writeHex(b, 5, v);
        assertEquals(21, end);
        assertEquals(HlcTimestamp.toHex(v), new String(b, 5, 16, StandardCharsets.US_ASCII));
    }
}
