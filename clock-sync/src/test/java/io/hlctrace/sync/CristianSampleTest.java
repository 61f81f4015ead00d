package io.hlctrace.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class CristianSampleTest {
    /** An exchange in real time: request delay d1, peer processing p, response delay d2; peer clock = ours + theta. */
    static CristianSample exchange(long theta, long start, long d1, long p, long d2) {
        long t1 = start;
        long t2 = start + d1 + theta;
        long t3 = t2 + p;
        long t4 = start + d1 + p + d2;
        return new CristianSample("b", t1, t2, t3, t4, 0, 0);
    }

    @Test
    void symmetricDelayGivesTheExactOffset() {
        CristianSample s = exchange(5_000, 1_000_000, 100, 30, 100);
        assertEquals(5_000, s.offset());
        assertEquals(200, s.roundTrip());
        assertEquals(100, s.error());
    }

    @Test
    void asymmetricDelayIsCoveredByTheErrorBound() {
        // 100 ns out, 900 ns back: the estimate is off by 400 ns, the bound is 500 ns
        CristianSample s = exchange(1_000, 0, 100, 50, 900);
        assertEquals(600, s.offset());
        assertEquals(500, s.error());
        assertTrue(s.lo() <= 1_000 && 1_000 <= s.hi());
    }

    @Test
    void impossibleTimesAreImplausible() {
        assertFalse(new CristianSample("b", 10, 0, 0, 5, 0, 0).plausible(), "t4 before t1");
        assertFalse(new CristianSample("b", 0, 10, 5, 20, 0, 0).plausible(), "t3 before t2");
        assertFalse(new CristianSample("b", 0, 0, 100, 20, 0, 0).plausible(), "the peer took longer than the round trip");
    }

    @Test
    void errorGrowsWithAgeByTheDriftAllowance() {
        CristianSample s = exchange(0, 0, 50, 0, 50);
        assertEquals(50, s.error());
        // two clocks at 15 ppm each drift apart by up to 30 us per second
        assertEquals(50 + 30_000, s.errorAfter(1_000_000_000L, 15));
    }

    @Property(tries = 500)
    void theTrueOffsetIsAlwaysWithinTheBound(@ForAll @LongRange(min = -10_000_000_000_000L, max = 10_000_000_000_000L) long theta,
                                             @ForAll @LongRange(min = 0, max = 50_000_000) long d1,
                                             @ForAll @LongRange(min = 0, max = 1_000_000) long p,
                                             @ForAll @LongRange(min = 0, max = 50_000_000) long d2) {
        CristianSample s = exchange(theta, 1_700_000_000_000_000_000L, d1, p, d2);
        assertTrue(s.plausible());
        assertTrue(s.offset() - s.error() <= theta && theta <= s.offset() + s.error(),
                () -> "theta " + theta + " outside " + s.offset() + " +- " + s.error());
        assertEquals(d1 + d2, s.roundTrip());
    }
}
