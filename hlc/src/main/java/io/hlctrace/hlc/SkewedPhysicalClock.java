package io.hlctrace.hlc;

/**
 * A physical clock that is wrong on purpose: a base clock plus a fixed offset and a drift rate, to
 * simulate a host whose clock is off (the demo sets one executor two hours behind, another 350 ms
 * ahead and drifting 50 ppm). Drift accumulates from {@code driftEpochNanos} of the base clock.
 */
public final class SkewedPhysicalClock implements PhysicalClock {
    private final PhysicalClock base;
    private final long offsetNanos;
    private final long driftPpb;
    private final long driftEpochNanos;

    public SkewedPhysicalClock(PhysicalClock base, long offsetNanos, double driftPpm, long driftEpochNanos) {
        this.base = base;
        this.offsetNanos = offsetNanos;
        this.driftPpb = Math.round(driftPpm * 1000.0);
        this.driftEpochNanos = driftEpochNanos;
    }

    /** Offset only, no drift. */
    public SkewedPhysicalClock(PhysicalClock base, long offsetNanos) {
        this(base, offsetNanos, 0.0, 0L);
    }

    /** Offset and drift, drift counted from now. */
    public static SkewedPhysicalClock withDrift(PhysicalClock base, long offsetNanos, double driftPpm) {
        return new SkewedPhysicalClock(base, offsetNanos, driftPpm, base.nanos());
    }

    @Override
    public long nanos() {
        return apply(base.nanos(), offsetNanos, driftPpb, driftEpochNanos);
    }

    /**
     * The one formula for a skewed clock, shared with {@link ExecutorPhysicalClock} and mirrored by
     * the BPF probe: {@code t + offset + (t - epoch) * ppb / 1e9}.
     */
    public static long apply(long baseNanos, long offsetNanos, long driftPpb, long driftEpochNanos) {
        long t = baseNanos + offsetNanos;
        if (driftPpb != 0) {
            long elapsed = baseNanos - driftEpochNanos;
            // elapsed * ppb overflows a long after ~3 hours at 1e6 ppb; whole seconds and the rest do not
            long whole = elapsed / 1_000_000_000L;
            long rest = elapsed % 1_000_000_000L;
            t += whole * driftPpb + (rest * driftPpb) / 1_000_000_000L;
        }
        return t;
    }

    public long offsetNanos() { return offsetNanos; }

    public double driftPpm() { return driftPpb / 1000.0; }
}
