package io.hlctrace.hlc;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The paper's theorems, checked on simulated systems: N nodes whose physical clocks are skewed and
 * drift, exchanging random messages with random delays. Vector clocks are the ground truth of
 * happened-before.
 */
class HlcPropertiesTest {
    static final long START = Duration.ofDays(20_000).toNanos();

    record Ev(int node, long hlc, VectorClock vc, long pt, long trueTime) {}

    record Msg(int from, long hlc, VectorClock vc, long deliverAt) {}

    @Property(tries = 60)
    void happenedBeforeImpliesHlcOrderAndBoundsHold(@ForAll @IntRange(min = 2, max = 6) int n,
                                                    @ForAll @IntRange(min = 0, max = 200) int maxSkewMillis,
                                                    @ForAll long seed) {
        Random rnd = new Random(seed);
        ManualPhysicalClock real = new ManualPhysicalClock(START);
        long eps = Duration.ofMillis(maxSkewMillis).toNanos();
        long[] offset = new long[n];
        SkewedPhysicalClock[] pt = new SkewedPhysicalClock[n];
        HybridLogicalClock[] clock = new HybridLogicalClock[n];
        VectorClock[] vc = new VectorClock[n];
        for (int i = 0; i < n; i++) {
            // offsets in [0, eps] and drift small enough to stay within eps for the run
            offset[i] = eps == 0 ? 0 : (long) (rnd.nextDouble() * eps * 0.9);
            pt[i] = new SkewedPhysicalClock(real, offset[i], rnd.nextInt(21) - 10, START);
            clock[i] = new HybridLogicalClock(new AtomicClockCell(), pt[i], Duration.ofSeconds(1));
            vc[i] = VectorClock.ZERO;
        }
        List<Ev> events = new ArrayList<>();
        List<Msg> inFlight = new ArrayList<>();
        for (int step = 0; step < 400; step++) {
            // true time advances by at least one l unit per step, as the paper's c bound assumes
            real.advance(HlcTimestamp.NANOS_PER_L_UNIT_CEIL + rnd.nextInt(2_000_000));
            int i = rnd.nextInt(n);
            String me = "p" + i;
            Msg deliverable = null;
            for (Msg m : inFlight) {
                if (m.deliverAt <= real.nanos()) {
                    deliverable = m;
                    break;
                }
            }
            double action = rnd.nextDouble();
            long ts;
            if (deliverable != null && action < 0.5) {
                inFlight.remove(deliverable);
                ts = clock[i].update(deliverable.hlc).timestamp();
                vc[i] = vc[i].receive(me, deliverable.vc);
            } else {
                ts = clock[i].now();
                vc[i] = vc[i].tick(me);
                if (action < 0.8) inFlight.add(new Msg(i, ts, vc[i], real.nanos() + rnd.nextInt(5_000_000)));
            }
            events.add(new Ev(i, ts, vc[i], pt[i].nanos(), real.nanos()));
        }
        long maxPtSkewUnits = HlcTimestamp.nanosToLUnitsCeil(eps) + 2;
        for (Ev e : events) {
            long lMinusPt = HlcTimestamp.l(e.hlc) - HlcTimestamp.l(HlcTimestamp.fromNanos(e.pt));
            assertTrue(lMinusPt >= 0, "l never below pt");
            assertTrue(lMinusPt <= maxPtSkewUnits, "l - pt = " + lMinusPt + " units exceeds the skew bound " + maxPtSkewUnits);
            assertTrue(HlcTimestamp.c(e.hlc) <= n * (maxPtSkewUnits + 1), "c = " + HlcTimestamp.c(e.hlc) + " exceeds N * (eps + 1)");
        }
        for (Ev e : events) {
            for (Ev f : events) {
                if (e.vc.compare(f.vc) == Causality.BEFORE) {
                    assertTrue(HlcTimestamp.compare(e.hlc, f.hlc) < 0, "e -> f but hlc(e) >= hlc(f)");
                }
            }
        }
    }

    @Property(tries = 200)
    void guardRefusesExactlyWhatIsTooFarAhead(@ForAll @IntRange(min = 1, max = 10_000) int maxOffsetMillis,
                                              @ForAll @IntRange(min = -20_000, max = 20_000) int aheadMillis) {
        ManualPhysicalClock pt = new ManualPhysicalClock(START);
        HybridLogicalClock clock = new HybridLogicalClock(new AtomicClockCell(), pt, Duration.ofMillis(maxOffsetMillis));
        long remote = HlcTimestamp.fromNanos(START + Duration.ofMillis(aheadMillis).toNanos());
        HybridLogicalClock.Update u = clock.update(remote);
        long margin = aheadMillis - maxOffsetMillis;
        if (margin > 0) assertInstanceOf(HybridLogicalClock.Refused.class, u);
        if (margin < 0) assertInstanceOf(HybridLogicalClock.Merged.class, u);
        if (u instanceof HybridLogicalClock.Merged) assertTrue(HlcTimestamp.compare(u.timestamp(), remote) > 0);
        else assertTrue(HlcTimestamp.compare(u.timestamp(), remote) < 0);
    }
}
