package io.hlctrace.agent;

import io.hlctrace.hlc.PhysicalClock;
import io.hlctrace.hlc.SystemPhysicalClock;

/**
 * The system clock (CLOCK_REALTIME, as {@link SystemPhysicalClock} reads it) for the per-message
 * stamps: {@code System.nanoTime()} plus an offset to the wall clock that is measured again at
 * most every {@value #RECALIBRATE_NANOS} ns. The wall clock's own read goes through a native call
 * that costs about as much as the rest of a stamp; {@code nanoTime} is a vDSO read the JIT calls
 * directly. Between two calibrations the two clocks can drift apart by the clock discipline's slew
 * (at most 500 ppm: 0.5 us per ms), and a step of the wall clock (settimeofday) shows within 1 ms;
 * the HLC's own unit is 15 us, and it never goes back whatever the physical reading does.
 */
final class CalibratedSystemClock implements PhysicalClock {
    static final long RECALIBRATE_NANOS = 1_000_000L;

    private final PhysicalClock wall;
    /** wall time minus nanoTime at the last calibration, and that calibration's nanoTime. Written racily:
     *  any thread's measurement is as good as another's, and each field is one atomic long. */
    private volatile long offset;
    private volatile long calibratedAt;

    CalibratedSystemClock(PhysicalClock wall) {
        this.wall = wall;
        calibrate(System.nanoTime());
    }

    private long calibrate(long now) {
        long w = wall.nanos();
        long after = System.nanoTime();
        long off = w - (now + (after - now) / 2);
        offset = off;
        calibratedAt = after;
        return off;
    }

    @Override
    public long nanos() {
        long now = System.nanoTime();
        long off = offset;
        if (now - calibratedAt > RECALIBRATE_NANOS) off = calibrate(now);
        return now + off;
    }
}
