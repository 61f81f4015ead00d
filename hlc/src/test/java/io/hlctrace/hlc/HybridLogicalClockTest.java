package io.hlctrace.hlc;

import static org.junit.jupiter.api.Assertions.*;

import io.hlctrace.hlc.HybridLogicalClock.Merged;
import io.hlctrace.hlc.HybridLogicalClock.Refused;
import io.hlctrace.hlc.HybridLogicalClock.Update;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Table-driven, in the manner of CockroachDB's hlc_test.go: each row is one event at one physical
 * time, with the (l, c) the paper's rules give. Physical time is given in units of l so the rows
 * read like the paper's integer examples.
 */
class HybridLogicalClockTest {
    /** l units to the nanoseconds a ManualPhysicalClock must show for that l. */
    static long nanosOf(long l) {
        return HlcTimestamp.toNanos(HlcTimestamp.of(l, 0)) + 1;
    }

    static long ts(long l, int c) {
        return HlcTimestamp.of(l, c);
    }

    record Step(String what, long pt, Long remote, long expectL, int expectC) {
        static Step local(String what, long pt, long l, int c) { return new Step(what, pt, null, l, c); }
        static Step recv(String what, long pt, long remote, long l, int c) { return new Step(what, pt, remote, l, c); }
    }

    static final long BASE = 1_000_000L; // any l far from zero

    @Test
    void rulesOfThePaper() {
        List<Step> table = List.of(
                Step.local("first event takes pt, c = 0", BASE + 10, BASE + 10, 0),
                Step.local("pt unchanged: c counts", BASE + 10, BASE + 10, 1),
                Step.local("pt moved on: c resets", BASE + 11, BASE + 11, 0),
                Step.local("pt steps backwards: l holds, c counts", BASE + 5, BASE + 11, 1),
                Step.recv("receive from behind: l = l', c = c' + 1", BASE + 11, ts(BASE + 3, 9), BASE + 11, 2),
                Step.recv("receive with equal l and larger c: max(c, c_m) + 1", BASE + 11, ts(BASE + 11, 7), BASE + 11, 8),
                Step.recv("receive with equal l and smaller c: c + 1", BASE + 11, ts(BASE + 11, 1), BASE + 11, 9),
                Step.recv("receive from ahead (within max offset): l = l_m, c = c_m + 1", BASE + 11, ts(BASE + 20, 4), BASE + 20, 5),
                Step.local("local after that: l stays ahead of pt, c counts", BASE + 12, BASE + 20, 6),
                Step.recv("pt ahead of both: l = pt, c = 0", BASE + 30, ts(BASE + 25, 3), BASE + 30, 0),
                Step.recv("l_m = pt > l': c = c_m + 1", BASE + 40, ts(BASE + 40, 2), BASE + 40, 3));
        ManualPhysicalClock pt = new ManualPhysicalClock(0);
        HybridLogicalClock clock = new HybridLogicalClock(new AtomicClockCell(), pt, Duration.ofSeconds(1));
        for (Step s : table) {
            pt.set(nanosOf(s.pt));
            long got = s.remote == null ? clock.now() : clock.update(s.remote).timestamp();
            assertEquals(ts(s.expectL, s.expectC), got, s.what + ": expected (" + s.expectL + "," + s.expectC
                    + ") got (" + HlcTimestamp.l(got) + "," + HlcTimestamp.c(got) + ")");
        }
    }

    /**
     * A causal chain like the paper's Figure 6: process 0's clock reads 10 while processes 1..3 read
     * 1..3 (they are behind). l stays 10 along the chain and c absorbs the lag; once a slow process's
     * own pt passes 10, c resets to 0.
     */
    @Test
    void chainDrivenByOneFastClock() {
        ManualPhysicalClock[] pt = new ManualPhysicalClock[4];
        HybridLogicalClock[] p = new HybridLogicalClock[4];
        for (int i = 0; i < 4; i++) {
            pt[i] = new ManualPhysicalClock(nanosOf(BASE + i));
            p[i] = new HybridLogicalClock(new AtomicClockCell(), pt[i], HybridLogicalClock.GUARD_OFF);
        }
        pt[0].set(nanosOf(BASE + 10));
        long send0 = p[0].now();
        assertEquals(ts(BASE + 10, 0), send0);
        long recv1 = p[1].update(send0).timestamp();
        assertEquals(ts(BASE + 10, 1), recv1);
        pt[1].set(nanosOf(BASE + 2));
        long send1 = p[1].now();
        assertEquals(ts(BASE + 10, 2), send1);
        long recv2 = p[2].update(send1).timestamp();
        assertEquals(ts(BASE + 10, 3), recv2);
        long recv3 = p[3].update(p[2].now()).timestamp();
        assertEquals(ts(BASE + 10, 5), recv3);
        pt[3].set(nanosOf(BASE + 11));
        assertEquals(ts(BASE + 11, 0), p[3].now(), "pt passed l: c resets");
        long concurrent = p[0].now();
        assertTrue(HlcTimestamp.compare(send0, concurrent) < 0);
    }

    @Test
    void counterOverflowCarriesIntoLNeverWraps() {
        ManualPhysicalClock pt = new ManualPhysicalClock(nanosOf(BASE));
        HybridLogicalClock clock = new HybridLogicalClock(new AtomicClockCell(ts(BASE, 0xFFFE)), pt, Duration.ofSeconds(1));
        assertEquals(ts(BASE, 0xFFFF), clock.now());
        assertEquals(ts(BASE + 1, 0), clock.now(), "c + 1 at 0xFFFF carries into l");
        Update u = clock.update(ts(BASE + 1, 0xFFFF));
        assertEquals(ts(BASE + 2, 0), u.timestamp());
    }

    @Test
    void guardRefusesFarFutureAndCountsIt() {
        ManualPhysicalClock pt = new ManualPhysicalClock(nanosOf(BASE));
        HybridLogicalClock clock = new HybridLogicalClock(new AtomicClockCell(), pt, Duration.ofMillis(500));
        long before = clock.now();
        long forged = HlcTimestamp.fromNanos(pt.nanos() + Duration.ofHours(5).toNanos());
        Update u = clock.update(forged);
        Refused r = assertInstanceOf(Refused.class, u);
        assertEquals(forged, r.remote());
        assertTrue(r.aheadNanos() > Duration.ofHours(4).toNanos());
        assertTrue(HlcTimestamp.compare(r.timestamp(), before) > 0, "the receive is still stamped, by a local tick");
        assertTrue(HlcTimestamp.l(r.timestamp()) < BASE + 100, "the clock did not move into the future");
        assertEquals(1, clock.refusedCount());
        assertTrue(r.describe().contains("refused remote HLC"), r.describe());

        long justInside = HlcTimestamp.fromNanos(pt.nanos() + Duration.ofMillis(499).toNanos());
        assertInstanceOf(Merged.class, clock.update(justInside));
        long justOutside = HlcTimestamp.fromNanos(pt.nanos() + Duration.ofMillis(502).toNanos());
        assertInstanceOf(Refused.class, clock.update(justOutside));
        assertEquals(2, clock.refusedCount());
    }

    @Test
    void guardOffMergesAnything() {
        ManualPhysicalClock pt = new ManualPhysicalClock(nanosOf(BASE));
        HybridLogicalClock clock = new HybridLogicalClock(new AtomicClockCell(), pt, HybridLogicalClock.GUARD_OFF);
        long forged = HlcTimestamp.fromNanos(pt.nanos() + Duration.ofDays(3).toNanos());
        assertEquals(new Merged(forged + 1), clock.update(forged));
        assertFalse(clock.guardEnabled());
        assertThrows(IllegalArgumentException.class, () -> new HybridLogicalClock(new AtomicClockCell(), pt, Duration.ofSeconds(-1)));
    }

    @Test
    void skewedPhysicalClockOffsetsAndDrifts() {
        ManualPhysicalClock real = new ManualPhysicalClock(1_000_000_000_000L);
        SkewedPhysicalClock twoHoursBehind = new SkewedPhysicalClock(real, -Duration.ofHours(2).toNanos());
        assertEquals(real.nanos() - Duration.ofHours(2).toNanos(), twoHoursBehind.nanos());
        SkewedPhysicalClock drifting = new SkewedPhysicalClock(real, 350_000_000L, 50.0, real.nanos());
        assertEquals(real.nanos() + 350_000_000L, drifting.nanos());
        real.advance(Duration.ofSeconds(1000).toNanos());
        assertEquals(real.nanos() + 350_000_000L + 50_000_000L, drifting.nanos(), "50 ppm over 1000 s is 50 ms");
    }
}
