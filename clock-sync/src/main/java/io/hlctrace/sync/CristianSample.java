package io.hlctrace.sync;

/**
 * One request/response exchange with a peer and what it says about the peer's clock (Cristian's
 * probabilistic clock reading, with the bound NTP uses).
 *
 * <p>t1 and t4 are read on this executor's clock just before sending and just after receiving; t2
 * and t3 on the peer's clock just after receiving and just before answering. Because each read
 * happens-before the next in real time, the peer's offset theta (peer clock minus ours) satisfies
 * {@code t3 - t4 <= theta <= t2 - t1} whatever the delays of the two directions are. The estimate
 * is the midpoint of that range and the error bound its half-width, which is half the round trip
 * without the peer's processing time: {@code ((t4 - t1) - (t3 - t2)) / 2}.
 *
 * @param takenAt this executor's base clock when the answer arrived (for staleness)
 */
public record CristianSample(String peer, long t1, long t2, long t3, long t4, long peerGeneration, long takenAt) {

    /** Estimated offset of the peer's clock from ours, in nanoseconds. */
    public long offset() { return Math.floorDiv((t2 - t1) + (t3 - t4), 2); }

    /** Half-width of the range in which the true offset certainly lies (rounded up). */
    public long error() { return Math.floorDiv(roundTrip() + 1, 2); }

    /** Round trip without the peer's processing time. */
    public long roundTrip() { return (t4 - t1) - (t3 - t2); }

    /** Lower end of the range the true offset certainly lies in: t3 - t4. */
    public long lo() { return t3 - t4; }

    /** Upper end: t2 - t1. */
    public long hi() { return t2 - t1; }

    /**
     * Whether the four times can come from a real exchange: our clock moved forward (t4 >= t1), the
     * peer's too (t3 >= t2), and the peer did not take longer than the whole round trip.
     */
    public boolean plausible() { return t4 >= t1 && t3 >= t2 && roundTrip() >= 0; }

    /**
     * The error bound after {@code ageNanos} more nanoseconds, widened for the two clocks drifting
     * apart at up to {@code maxDriftPpm} each.
     */
    public long errorAfter(long ageNanos, double maxDriftPpm) {
        return error() + (long) Math.ceil(Math.max(0, ageNanos) * 2 * maxDriftPpm / 1e6);
    }
}
