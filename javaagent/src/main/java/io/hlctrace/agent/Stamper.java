package io.hlctrace.agent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

import io.hlctrace.hlc.ClockCell;
import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.PhysicalClock;

/**
 * Stamps the process's events into the {@link EventLog} ring, without a lock: an event is one
 * clock tick (a CAS on the clock word) and one CAS on the ticket counter, then a few stores into
 * the slot of its ticket; formatting happens on the log's writer thread.
 *
 * <p>Ticket order must be HLC order ({@code seq} is numbered by the writer in ticket order, and
 * HLCs must increase with it). A thread reads the ticket counter <em>before</em> its tick and
 * takes the next ticket with a CAS from the value it read. If the CAS succeeds, the thread that
 * took the ticket before it ticked before that read (it ticked, then made the counter what was
 * read), so this tick came later and is higher. If it fails, another thread took a ticket after
 * the read and may hold a higher HLC: the thread ticks again (an HLC value is skipped, which HLC
 * allows) and retries. {@link HybridLogicalClock}'s own tick cannot serve here: it returns no
 * physical reading (the event's {@code pt}) and its merge allocates its result; this is the same
 * tick and guard on the same {@link ClockCell}.
 */
public final class Stamper {
    /**
     * What a stamp hands back without allocating: the HLC (for the header), the message id, the
     * ticket (0: not logged). One per connection direction, used under that direction's lock.
     */
    static final class PendingSend {
        long ticket;
        long hlc;
        long msg;
        /** Not stamped (fail-stop, failMode refuse): counted as withheld unless nothing went out. */
        boolean withheld;
        /** The max-offset guard refused the remote HLC of this receive. */
        boolean refused;
        /** Claimed when the ring was full: counted as lost once bytes went out ({@link #sent}), not before. */
        boolean lost;
    }

    /**
     * What the agent does per message, for the benchmark's decomposition of its cost
     * (scripts/bench-agent.sh; docs/javaagent.md): {@code -Dhlctrace.benchmark.parts=framing}
     * frames messages with no timestamp and logs nothing, {@code framing+clock} also ticks the clock
     * and merges received ones but logs nothing. Not for production (the agent warns at start-up).
     * A static final: the JIT folds the checks away, so the normal path pays nothing for them.
     */
    static final int PARTS = benchmarkParts(System.getProperty("hlctrace.benchmark.parts"));
    static final int PARTS_ALL = 0, PARTS_FRAMING = 1, PARTS_FRAMING_CLOCK = 2;

    static int benchmarkParts(String v) {
        if (v == null) return PARTS_ALL;
        return switch (v) {
            case "framing" -> PARTS_FRAMING;
            case "framing+clock" -> PARTS_FRAMING_CLOCK;
            default -> throw new IllegalArgumentException("hlctrace.benchmark.parts=" + v + ": known values are framing and framing+clock"
                    + " (a benchmark switch; leave it unset for normal operation)");
        };
    }

    private static final VarHandle CLAIMED, LOST, WITHHELD, REFUSED, SPARE_MSG;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            CLAIMED = l.findVarHandle(Stamper.class, "claimed", long.class);
            LOST = l.findVarHandle(Stamper.class, "lost", long.class);
            WITHHELD = l.findVarHandle(Stamper.class, "withheld", long.class);
            REFUSED = l.findVarHandle(Stamper.class, "refused", long.class);
            SPARE_MSG = l.findVarHandle(Stamper.class, "spareMsg", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ClockCell cell;
    private final PhysicalClock physical;
    private final long maxOffsetUnits;
    private final ExecutorClockState shared; // null for a process-local clock
    private EventLog log;
    /** failMode refuse: while the executor clock's unhealthy flag is set, hand out no timestamps. */
    private final boolean refuseWhenUnhealthy;
    /** Message ids: 32 random bits per process, then the event's ticket (see {@link #messageId}). */
    private final long msgPrefix = ((long) java.util.concurrent.ThreadLocalRandom.current().nextInt()) << 32;

    // rarely written (full ring, fail-stop, refused headers, messages not logged)
    private volatile long lost;
    private volatile long withheld;
    private volatile long refused;
    private volatile long spareMsg;
    /** Of the lost events, how many a drop event reported (the writer thread's). */
    private long lostReported;
    /** Of the withheld events, how many a drop event reported; guarded by {@link #withheldLock}. */
    private long withheldReported;
    private final Object withheldLock = new Object();

    // the ticket counter, written by every event: on a cache line of its own
    private long p01, p02, p03, p04, p05, p06, p07;
    /** The last ticket handed out. */
    private volatile long claimed;
    private long q01, q02, q03, q04, q05, q06, q07;

    /** A process-local clock on the system clock (tests). */
    Stamper(HybridLogicalClock clockForTests, ExecutorClockState shared) {
        this(new io.hlctrace.hlc.AtomicClockCell(), clockForTests.physicalClock(), clockForTests.maxOffset(), shared, AgentConfig.FailMode.MARK_UNHEALTHY);
    }

    Stamper(ClockCell cell, PhysicalClock physical, Duration maxOffset, ExecutorClockState shared, AgentConfig.FailMode failMode) {
        this.cell = cell;
        this.physical = physical;
        this.maxOffsetUnits = HlcTimestamp.nanosToLUnitsCeil(maxOffset.toNanos());
        this.shared = shared;
        this.refuseWhenUnhealthy = shared != null && failMode == AgentConfig.FailMode.REFUSE;
    }

    /**
     * Fail-stop with failMode refuse: true when the executor is unhealthy, so this event gets no
     * timestamp and is counted instead (reported later as a drop event).
     */
    private boolean withhold() {
        if (refuseWhenUnhealthy && shared.unhealthy()) {
            WITHHELD.getAndAdd(this, 1L);
            return true;
        }
        return false;
    }

    /** Whether the executor clock's unhealthy flag is set now. */
    boolean unhealthyNow() {
        return shared != null && shared.unhealthy();
    }

    void attach(EventLog log) { this.log = log; }

    /**
     * A message id: the prefix and the low 32 bits of the event's ticket (tickets are unique in
     * the process, so this takes no counter of its own); a message that is not logged (full ring,
     * fail-stop) counts down from the top of the 32 bits instead.
     */
    private long messageId(long ticket) {
        if (PARTS != PARTS_ALL) return msgPrefix; // benchmark decomposition: nothing is logged, so nothing pairs
        if (ticket != 0) return msgPrefix | (ticket & 0xFFFFFFFFL);
        return msgPrefix | (~(long) SPARE_MSG.getAndAdd(this, 1L) & 0xFFFFFFFFL);
    }

    /**
     * Ticks the clock (merging {@code remote} unless it is 0 or the guard refuses it) and takes the
     * next ticket; fills the slot's HLC, pt and meta. Returns the ticket, 0 when the event is not
     * logged (full ring: counted as lost, or left to {@link #sent} when {@code out.lost} was set by
     * {@link #claimSend}; no log). The HLC goes to {@code out.hlc}. Sets
     * {@link EventLog#REFUSED} in the meta when the guard refused {@code remote}.
     */
    private long stamp(long remote, byte kind, int flags, Object ref, PendingSend out) {
        EventLog l = PARTS == PARTS_ALL ? log : null;
        long pt, hlc, c;
        boolean refusedNow;
        for (;;) {
            c = claimed; // before the tick: see the class comment
            pt = physical.nanos();
            long ptw = HlcTimestamp.fromNanos(pt);
            refusedNow = remote != 0 && maxOffsetUnits != 0
                    && Long.compareUnsigned(HlcTimestamp.l(remote), HlcTimestamp.l(ptw) + maxOffsetUnits) > 0;
            long merge = refusedNow ? 0 : remote;
            long old = cell.get();
            for (;;) {
                long next = HlcTimestamp.max(HlcTimestamp.max(old, merge) + 1, ptw);
                long seen = cell.compareAndExchange(old, next);
                if (seen == old) {
                    hlc = next;
                    break;
                }
                old = seen;
            }
            if (l == null) {
                out.lost = false; // not logged at all: nothing is lost
                c = -1;
                break;
            }
            if (c - l.consumed >= l.capacity) {
                if (!out.lost) LOST.getAndAdd(this, 1L); // else counted by sent(), if bytes go out
                c = -1;
                break;
            }
            if (CLAIMED.compareAndSet(this, c, c + 1)) break;
        }
        out.hlc = hlc;
        out.refused = refusedNow;
        if (refusedNow) {
            REFUSED.getAndAdd(this, 1L);
            flags |= EventLog.REFUSED;
        }
        if (c < 0) return 0;
        long t = c + 1;
        int b = l.base(t);
        long[] s = l.slots;
        s[b + EventLog.HLC] = hlc;
        s[b + EventLog.PT] = pt;
        if (unhealthyNow()) flags |= EventLog.UNHEALTHY;
        s[b + EventLog.META] = (kind & 0xFF) | (flags & 0xFF) << 8;
        l.ref[l.index(t)] = ref;
        return t;
    }

    /** The remote HLC that {@link #receive} found refused, for the warning (rare: allocates). */
    private HybridLogicalClock.Refused refusal(long local, long remote) {
        return new HybridLogicalClock.Refused(local, remote, HlcTimestamp.toNanos(remote) - physical.nanos());
    }

    /**
     * A send that is logged at once (blocking plain writes): returns its HLC, 0 when none was handed
     * out (fail-stop, failMode refuse).
     */
    long send(Object conn, long bytes, long off, PendingSend p) {
        if (PARTS == PARTS_FRAMING || withhold()) return 0;
        long t = stamp(0, EventLog.SEND, off >= 0 ? EventLog.HAS_OFF : 0, conn, p);
        if (t != 0) publish(t, bytes, off, 0, 0);
        return p.hlc;
    }

    /**
     * A framed message, logged at once: its HLC and message id for the header go into {@code out}.
     * While fail-stopped with failMode refuse the HLC is 0 (the header then says "no timestamp")
     * and nothing is logged.
     */
    void sendMessage(Object conn, long bytes, long off, PendingSend out) {
        if (PARTS == PARTS_FRAMING || withhold()) {
            out.hlc = 0;
            out.msg = messageId(0);
            return;
        }
        long t = stamp(0, EventLog.SEND, EventLog.HAS_MSG | (off >= 0 ? EventLog.HAS_OFF : 0), conn, out);
        long msg = out.msg = messageId(t);
        if (t != 0) publish(t, bytes, off, msg, 0);
    }

    /**
     * Stamps a send before its bytes can leave (with a message id when {@code message}); {@link #sent}
     * or {@link #notSent} must follow.
     */
    void claimSend(Object conn, boolean message, PendingSend p) {
        if (PARTS == PARTS_FRAMING || (p.withheld = withhold())) {
            p.hlc = 0;
            p.ticket = 0;
            p.msg = message ? messageId(0) : 0;
            return;
        }
        p.lost = true; // asks stamp() to leave the count of a lost claim to sent()
        long t = p.ticket = stamp(0, EventLog.SEND, message ? EventLog.HAS_MSG : 0, conn, p);
        if (t != 0) p.lost = false;
        p.msg = message ? messageId(t) : 0;
    }

    /** The kernel took {@code bytes} (> 0) of the pending send; {@code off} < 0 for none (UDP). */
    void sent(PendingSend p, long bytes, long off) {
        p.withheld = false;
        if (p.lost) {
            p.lost = false;
            LOST.getAndAdd(this, 1L);
        }
        long t = p.ticket;
        if (t == 0) return;
        p.ticket = 0;
        if (off >= 0) log.slots[log.base(t) + EventLog.META] |= EventLog.HAS_OFF << 8;
        publish(t, bytes, off, p.msg, 0);
    }

    /** Nothing of the pending send went out: no event (its clock tick is simply unused). */
    void notSent(PendingSend p) {
        p.lost = false; // a write that took nothing is no event, so it is no lost event either
        if (p.withheld) {
            p.withheld = false;
            synchronized (withheldLock) {
                // a write that took nothing is no event, so it is no withheld event either
                if (withheld > withheldReported) WITHHELD.getAndAdd(this, -1L);
            }
        }
        long t = p.ticket;
        if (t == 0) return;
        p.ticket = 0;
        log.cancel(t);
    }

    /**
     * The receive of a framed message carrying {@code remote}: merged unless the guard refuses it.
     * {@code remote} 0 is a message without a timestamp (its sender was fail-stopped): a local tick,
     * no {@code rhlc}. While this executor is fail-stopped with failMode refuse nothing is merged
     * or logged (counted instead). {@code p} is the caller's scratch (its direction's lock held).
     */
    void receive(Object conn, long remote, long msgId, long bytes, long off, PendingSend p) {
        if (PARTS == PARTS_FRAMING || withhold()) return;
        int flags = EventLog.HAS_MSG | (remote != 0 ? EventLog.HAS_RHLC : 0) | (off >= 0 ? EventLog.HAS_OFF : 0);
        long t = stamp(remote, EventLog.RECV, flags, conn, p);
        if (t != 0) publish(t, bytes, off, msgId, remote);
        if (p.refused) Agent.warnRefused(conn instanceof TcpConnection c ? c : null, refusal(p.hlc, remote));
    }

    /** A receive on a plain connection (or an unframed datagram): a local tick; {@code off} < 0 for none. */
    void plainReceive(Object conn, long bytes, long off, PendingSend p) {
        if (PARTS == PARTS_FRAMING || withhold()) return;
        long t = stamp(0, EventLog.RECV, off >= 0 ? EventLog.HAS_OFF : 0, conn, p);
        if (t != 0) publish(t, bytes, off, 0, 0);
    }

    /**
     * Fills the rest of the stamped event of ticket {@code t} (not 0) and hands it to the writer;
     * {@code msg} and {@code rhlc} are read only when the event's flags say it has them.
     */
    private void publish(long t, long bytes, long off, long msg, long rhlc) {
        EventLog l = log;
        long[] s = l.slots;
        int b = l.base(t);
        s[b + EventLog.BYTES] = bytes;
        s[b + EventLog.OFF] = off;
        s[b + EventLog.MSG] = msg;
        s[b + EventLog.RHLC] = rhlc;
        l.publish(t);
    }

    /**
     * connect, accept, close (with the connection) or start, stop (with an info text). Start and
     * stop are the stamper's own reports and are stamped even while fail-stopped (then marked
     * unhealthy), like the kernel probe's daemon events.
     */
    public void lifecycle(byte kind, Object connOrInfo) {
        if (kind != EventLog.START && kind != EventLog.STOP && withhold()) return;
        long t = stamp(0, kind, 0, connOrInfo, new PendingSend());
        if (t != 0) log.publish(t);
    }

    /**
     * A lifecycle event that must not be lost (the stop event): waits up to {@code waitMillis} for
     * the writer to free a slot.
     */
    void lifecycleWhenRoom(byte kind, Object connOrInfo, long waitMillis) {
        EventLog l = log;
        long end = System.nanoTime() + waitMillis * 1_000_000L;
        while (l != null && claimed - l.consumed >= l.capacity && System.nanoTime() < end) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
        lifecycle(kind, connOrInfo);
    }

    /**
     * The writer's report of the events lost to a full ring that no drop event reported yet; false
     * when there were none, or when the ring is full again (reported later).
     */
    boolean reportLost() {
        long now = lost;
        if (now <= lostReported || !logDrop(now - lostReported)) return false;
        lostReported = now;
        return true;
    }

    /** A drop event for {@code count} lost events; false when the ring is full. */
    private boolean logDrop(long count) {
        EventLog l = log;
        if (claimed - l.consumed >= l.capacity) return false; // not counted: it is this report itself
        long t = stamp(0, EventLog.DROP, 0, null, new PendingSend());
        if (t == 0) {
            LOST.getAndAdd(this, -1L); // filled up meanwhile: this report itself is no lost event
            return false;
        }
        l.slots[l.base(t) + EventLog.BYTES] = count;
        l.publish(t);
        return true;
    }

    /**
     * Reports the events withheld while fail-stopped (failMode refuse) that no drop event reported
     * yet, as one drop event with cause fail-stop. Waits until the executor is healthy again (the
     * report then has a trusted timestamp) unless {@code evenIfUnhealthy} (at exit: a report of what
     * was lost must not be lost itself). Returns how many it reported.
     */
    long reportWithheld(boolean evenIfUnhealthy) {
        EventLog l = log;
        long t;
        long count;
        synchronized (withheldLock) {
            long w = withheld;
            count = w - withheldReported;
            if (count == 0 || l == null || (!evenIfUnhealthy && shared.unhealthy())) return 0;
            if (claimed - l.consumed >= l.capacity) return 0; // the ring is full: reported later
            t = stamp(0, EventLog.DROP, EventLog.FAIL_STOP, null, new PendingSend());
            if (t == 0) {
                LOST.getAndAdd(this, -1L); // filled up meanwhile: reported later, and this report is no lost event
                return 0;
            }
            withheldReported = w;
        }
        l.slots[l.base(t) + EventLog.BYTES] = count;
        l.publish(t);
        return count;
    }

    /** The last ticket handed out. */
    long claimedTotal() {
        return claimed;
    }

    /** Events not stamped while fail-stopped (failMode refuse). */
    long withheldTotal() {
        return withheld;
    }

    /** Remote timestamps refused by the max-offset guard. */
    long refusedTotal() {
        return refused;
    }

    boolean refusesWhenUnhealthy() { return refuseWhenUnhealthy; }

    /** Events lost to a full ring. */
    long lostTotal() {
        return lost;
    }
}
