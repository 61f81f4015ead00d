package io.hlctrace.hlc;

import java.nio.ByteBuffer;

/**
 * The executor clock: one 64-byte record that every stamper on a host shares, in the mapped clock
 * file ({@link ExecutorClockFile}) and, identically, as the value of the BPF array map
 * {@code hlc_clock} (bpf/hlc_clock.h declares the same struct). All fields are native-order 64-bit
 * words; only the HLC word is written by stampers (by CAS), the rest by the executor's owner (the
 * probe daemon, or the first agent when no daemon runs).
 *
 * <pre>
 * offset  field                 meaning
 *   0     hlc                   the executor's HLC word ({@link HlcTimestamp})
 *   8     offset_ns             added to CLOCK_REALTIME by every stamper: simulated skew + sync correction
 *  16     drift_ppb             simulated drift, parts per billion
 *  24     drift_epoch_ns        CLOCK_REALTIME at which the drift starts to accumulate
 *  32     tai_minus_utc_ns      for BPF only: CLOCK_TAI - CLOCK_REALTIME, subtracted from bpf_ktime_get_tai_ns()
 *  40     max_offset_ns         the executor's max-offset guard; 0 turns the guard off
 *  48     flags                 bit 0: unhealthy (clock sync failed: fail-stop)
 *  56     sync_error_ns         half-width of the executor's uncertainty interval (TrueTime style)
 * </pre>
 */
public final class ExecutorClockState {
    public static final int SIZE = 64;
    public static final int HLC = 0;
    public static final int OFFSET_NS = 8;
    public static final int DRIFT_PPB = 16;
    public static final int DRIFT_EPOCH_NS = 24;
    public static final int TAI_MINUS_UTC_NS = 32;
    public static final int MAX_OFFSET_NS = 40;
    public static final int FLAGS = 48;
    public static final int SYNC_ERROR_NS = 56;

    public static final long FLAG_UNHEALTHY = 1L;

    private final ByteBuffer buffer;
    private final int base;
    private final ByteBufferClockCell hlcCell;

    /** A view of the record at {@code base} (64-byte aligned) of a direct buffer. */
    public ExecutorClockState(ByteBuffer buffer, int base) {
        if (buffer.capacity() < base + SIZE) throw new IllegalArgumentException("buffer too small for the clock record");
        if (buffer.isDirect() && buffer.alignmentOffset(base, 8) != 0) throw new IllegalArgumentException("clock record not aligned");
        this.buffer = buffer;
        this.base = base;
        this.hlcCell = new ByteBufferClockCell(buffer, base + HLC);
    }

    /** The cell holding the HLC word, for {@link HybridLogicalClock}. */
    public ClockCell hlcCell() { return hlcCell; }

    public long get(int field) {
        return (long) ByteBufferClockCell.NATIVE_LONGS.getVolatile(buffer, base + field);
    }

    public void set(int field, long value) {
        ByteBufferClockCell.NATIVE_LONGS.setVolatile(buffer, base + field, value);
    }

    public boolean unhealthy() { return (get(FLAGS) & FLAG_UNHEALTHY) != 0; }

    /** The executor's physical clock: the base clock corrected by this record's offset and drift. */
    public PhysicalClock physicalClock(PhysicalClock base) {
        return () -> {
            long t = base.nanos();
            return SkewedPhysicalClock.apply(t, get(OFFSET_NS), get(DRIFT_PPB), get(DRIFT_EPOCH_NS));
        };
    }

    /** Sets a simulated skew: the executor's physical clock reads real time + offset, drifting. */
    public void setSkew(long offsetNanos, long driftPpb, long driftEpochNanos) {
        set(DRIFT_EPOCH_NS, driftEpochNanos);
        set(DRIFT_PPB, driftPpb);
        set(OFFSET_NS, offsetNanos);
    }

    /** The executor's max-offset guard in nanoseconds, 0 when off. */
    public long maxOffsetNanos() { return get(MAX_OFFSET_NS); }
}
