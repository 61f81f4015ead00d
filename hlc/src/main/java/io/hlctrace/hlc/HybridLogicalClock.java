package io.hlctrace.hlc;

import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Hybrid Logical Clock (Kulkarni et al., 2014) over one 64-bit word in a {@link ClockCell}.
 *
 * <p>The paper's rules, written on the encoded word w = (l, c) of {@link HlcTimestamp} with
 * pt = (pt, 0):
 * <pre>
 * send or local event:  l' = l; l = max(l', pt); c = (l == l') ? c + 1 : 0
 *                       is  w = max(w + 1, pt)
 * receive of m:         l' = l; l = max(l', l.m, pt)
 *                       c = l == l' == l.m ? max(c, c.m) + 1
 *                         : l == l'        ? c + 1
 *                         : l == l.m       ? c.m + 1
 *                         :                  0
 *                       is  w = max(max(w, m) + 1, pt)
 * </pre>
 * The two forms agree because c occupies the low bits, and a c that would pass 0xFFFF carries into
 * l instead of wrapping. Every update is one CAS on the word, so any number of threads, processes
 * and BPF programs sharing the cell receive strictly increasing, unique timestamps.
 *
 * <p>The max-offset guard: a remote timestamp whose l is more than {@code maxOffset} ahead of this
 * clock's physical time is not merged (a forged or broken peer must not drag the executor into the
 * future); the receive is stamped by a local tick instead and the result says {@link Refused}.
 */
public final class HybridLogicalClock {
    /** Pass as max offset to turn the guard off (for experiments only). */
    public static final Duration GUARD_OFF = Duration.ZERO;

    private final ClockCell cell;
    private final PhysicalClock physical;
    private final long maxOffsetUnits;
    private final Duration maxOffset;
    private final LongAdder refused = new LongAdder();

    public HybridLogicalClock(ClockCell cell, PhysicalClock physical, Duration maxOffset) {
        if (maxOffset.isNegative()) throw new IllegalArgumentException("max offset must not be negative: " + maxOffset);
        this.cell = cell;
        this.physical = physical;
        this.maxOffset = maxOffset;
        this.maxOffsetUnits = HlcTimestamp.nanosToLUnitsCeil(maxOffset.toNanos());
    }

    /** A process-local clock on the system clock with the given guard. */
    public static HybridLogicalClock local(Duration maxOffset) {
        return new HybridLogicalClock(new AtomicClockCell(), SystemPhysicalClock.INSTANCE, maxOffset);
    }

    /** Timestamps a local or send event. */
    public long now() {
        return tick(HlcTimestamp.fromNanos(physical.nanos()), 0);
    }

    /** Timestamps the receive of a message stamped {@code remote}, merging it unless the guard refuses it. */
    public Update update(long remote) {
        long ptNanos = physical.nanos();
        long pt = HlcTimestamp.fromNanos(ptNanos);
        if (maxOffsetUnits != 0 && Long.compareUnsigned(HlcTimestamp.l(remote), HlcTimestamp.l(pt) + maxOffsetUnits) > 0) {
            refused.increment();
            long local = tick(pt, 0);
            return new Refused(local, remote, HlcTimestamp.toNanos(remote) - ptNanos);
        }
        return new Merged(tick(pt, remote));
    }

    /** One CAS loop for both rules: w = max(max(w, remote) + 1, pt); a local tick passes remote = 0. */
    private long tick(long pt, long remote) {
        long old = cell.get();
        for (;;) {
            long next = HlcTimestamp.max(HlcTimestamp.max(old, remote) + 1, pt);
            long seen = cell.compareAndExchange(old, next);
            if (seen == old) return next;
            old = seen;
        }
    }

    /** The last timestamp handed out, without ticking. */
    public long peek() { return cell.get(); }

    /** Physical time as this clock sees it. */
    public long physicalNanos() { return physical.nanos(); }

    public PhysicalClock physicalClock() { return physical; }

    public Duration maxOffset() { return maxOffset; }

    public boolean guardEnabled() { return maxOffsetUnits != 0; }

    /** Remote timestamps refused by the guard since this clock was made. */
    public long refusedCount() { return refused.sum(); }

    /** The outcome of a receive. */
    public sealed interface Update permits Merged, Refused {
        /** The timestamp of the receive event. */
        long timestamp();
    }

    /** The remote timestamp was merged. */
    public record Merged(long timestamp) implements Update {}

    /**
     * The remote timestamp was more than the max offset ahead of local physical time and was not
     * merged; the receive was stamped by a local tick.
     */
    public record Refused(long timestamp, long remote, long aheadNanos) implements Update {
        public String describe() {
            return "refused remote HLC " + HlcTimestamp.toSortableString(remote) + ": it is "
                    + Duration.ofNanos(aheadNanos) + " ahead of the local physical clock, beyond the max offset";
        }
    }
}
