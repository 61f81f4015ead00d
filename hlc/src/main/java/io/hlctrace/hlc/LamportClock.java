package io.hlctrace.hlc;

import java.util.concurrent.atomic.AtomicLong;

/** Lamport's logical clock: a counter, ticked on every event, max-merged on receive. */
public final class LamportClock {
    private final AtomicLong counter = new AtomicLong();

    /** A local or send event. */
    public long tick() { return counter.incrementAndGet(); }

    /** The receive of a message carrying {@code remote}: max(local, remote) + 1. */
    public long receive(long remote) {
        return counter.accumulateAndGet(remote, (local, m) -> Math.max(local, m) + 1);
    }

    public long peek() { return counter.get(); }
}
