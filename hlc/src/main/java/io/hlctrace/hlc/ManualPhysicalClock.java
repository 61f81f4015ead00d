package io.hlctrace.hlc;

import java.util.concurrent.atomic.AtomicLong;

/** A physical clock that moves only when told to: for tests and simulations. */
public final class ManualPhysicalClock implements PhysicalClock {
    private final AtomicLong nanos;

    public ManualPhysicalClock(long epochNanos) {
        this.nanos = new AtomicLong(epochNanos);
    }

    @Override
    public long nanos() { return nanos.get(); }

    public void set(long epochNanos) { nanos.set(epochNanos); }

    public long advance(long deltaNanos) { return nanos.addAndGet(deltaNanos); }
}
