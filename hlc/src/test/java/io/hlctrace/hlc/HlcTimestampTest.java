package io.hlctrace.hlc;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Instant;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class HlcTimestampTest {

    @Test
    void layoutIsSecondsFractionCounter() {
        long w = HlcTimestamp.fromNanos(1_700_000_000_500_000_000L);
        assertEquals(1_700_000_000L, w >>> 32, "top 32 bits are Unix seconds");
        assertEquals(0x8000, (w >>> 16) & 0xFFFF, "half a second is fraction 0x8000");
        assertEquals(0, HlcTimestamp.c(w));
        assertEquals(HlcTimestamp.of(HlcTimestamp.l(w), 7), w + 7);
    }

    @Test
    void resolutionOfLIsAbout15Microseconds() {
        long a = HlcTimestamp.fromNanos(1_000_000_000L);
        long b = HlcTimestamp.fromNanos(1_000_000_000L + 15_258);
        long c = HlcTimestamp.fromNanos(1_000_000_000L + 15_259);
        assertEquals(HlcTimestamp.l(a), HlcTimestamp.l(b), "15.258 us is below one unit");
        assertEquals(HlcTimestamp.l(a) + 1, HlcTimestamp.l(c), "15.259 us is one unit");
    }

    @Property(tries = 2000)
    void nanosRoundTripWithinOneUnit(@ForAll @LongRange(min = 0, max = 4_294_967_295_999_999_999L) long nanos) {
        long back = HlcTimestamp.toNanos(HlcTimestamp.fromNanos(nanos));
        assertTrue(back <= nanos && nanos - back <= HlcTimestamp.NANOS_PER_L_UNIT_CEIL, nanos + " -> " + back);
    }

    @Property(tries = 2000)
    void textFormsRoundTripAndSortLikeTheWord(@ForAll long a, @ForAll long b) {
        assertEquals(a, HlcTimestamp.fromHex(HlcTimestamp.toHex(a)));
        assertEquals(a, HlcTimestamp.fromSortableString(HlcTimestamp.toSortableString(a)));
        assertEquals(Integer.signum(HlcTimestamp.compare(a, b)),
                Integer.signum(HlcTimestamp.toSortableString(a).compareTo(HlcTimestamp.toSortableString(b))));
        assertEquals(Integer.signum(HlcTimestamp.compare(a, b)),
                Integer.signum(HlcTimestamp.toHex(a).compareTo(HlcTimestamp.toHex(b))));
    }

    @Test
    void wordsAfter2038CompareUnsigned() {
        long before = HlcTimestamp.fromInstant(Instant.parse("2038-01-19T03:14:07Z"));
        long after = HlcTimestamp.fromInstant(Instant.parse("2038-01-19T03:14:08Z"));
        assertTrue(after < 0, "the seconds field uses its top bit from 2038 on");
        assertTrue(HlcTimestamp.compare(before, after) < 0);
        assertEquals(Instant.parse("2038-01-19T03:14:08Z"), HlcTimestamp.toInstant(after));
    }

    @Test
    void sortableStringIsReadable() {
        long w = HlcTimestamp.fromInstant(Instant.parse("2026-11-23T01:29:26.123456Z")) + 12;
        assertEquals("2026-11-23T01:29:26.123443Z/00012", HlcTimestamp.toSortableString(w),
                "microseconds of l (truncated to 2^-16 s), then c");
        assertEquals(w, HlcTimestamp.parse("2026-11-23T01:29:26.123443Z/00012"));
        assertEquals(w, HlcTimestamp.parse(HlcTimestamp.toHex(w)));
    }

    @Test
    void badTextIsRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HlcTimestamp.fromHex("12345"));
        assertTrue(e.getMessage().contains("16 hex digits"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HlcTimestamp.fromHex("000000000000000g"));
        assertTrue(e.getMessage().contains("position 15"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HlcTimestamp.parse("yesterday"));
        assertThrows(IllegalArgumentException.class, () -> HlcTimestamp.of(1L << 48, 0));
        assertThrows(IllegalArgumentException.class, () -> HlcTimestamp.of(1, 0x10000));
    }
}
