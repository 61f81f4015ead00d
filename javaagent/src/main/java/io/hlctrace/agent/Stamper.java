package io.hlctrace.agent;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.PhysicalClock;

/**
 * Stamps the process's events into the {@link EventLog} ring. The HLC tick and the slot ticket are
 * taken under one lock, so that ticket order (and with it {@code seq}, numbered by the writer in
 * ticket order) never disagrees with HLC order. Everything else on the application thread is a
 * few stores into the slot; formatting happens on the log's writer thread.
 */
public final class Stamper {
    /**
     * A physical clock that remembers its last reading, so the event's {@code pt} is the time the
     * tick saw without a second clock read. Read only under the Stamper's lock.
     */
    static final class LastReading implements PhysicalClock {
        private final PhysicalClock base;
        long last;

        LastReading(PhysicalClock base) { this.base = base; }

        @Override
        public long nanos() {
            return last = base.nanos();
        }
    }

    /** A send whose slot is taken before its bytes can leave and published once the kernel took them. */
    static final class PendingSend {
        long ticket;
        long hlc;
        long msg;
        /** Not stamped (fail-stop, failMode refuse): counted as withheld unless nothing went out. */
        boolean withheld;
    }

    private final HybridLogicalClock clock;
    private final ExecutorClockState shared; // null for a process-local clock
    private final LastReading reading;       // null: pt is read again after the tick
    private EventLog log;
    // guarded by this (kept beside the lock word: the lock brings their cache line along)
    /** The last ticket handed out. */
    private long claimed;
    /** Events lost to a full ring. */
    private long lost;
    /** Events not stamped because the executor was fail-stopped (failMode refuse). */
    private long withheld;
    /** Of those, how many a drop event reported. */
    private long withheldReported;
    /** failMode refuse: while the executor clock's unhealthy flag is set, hand out no timestamps. */
    private final boolean refuseWhenUnhealthy;
    /** Message ids: 32 random bits per process, then a counter. */
    private final long msgPrefix = ((long) java.util.concurrent.ThreadLocalRandom.current().nextInt()) << 32;
    private long msgCounter;

    Stamper(HybridLogicalClock clock, ExecutorClockState shared) {
        this(clock, shared, null);
    }

    /** {@code reading} must be the physical clock that {@code clock} ticks with. */
    Stamper(HybridLogicalClock clock, ExecutorClockState shared, LastReading reading) {
        this(clock, shared, reading, AgentConfig.FailMode.MARK_UNHEALTHY);
    }

    Stamper(HybridLogicalClock clock, ExecutorClockState shared, LastReading reading, AgentConfig.FailMode failMode) {
        this.clock = clock;
        this.shared = shared;
        this.reading = reading;
        this.refuseWhenUnhealthy = shared != null && failMode == AgentConfig.FailMode.REFUSE;
    }

    /**
     * Fail-stop with failMode refuse (called under the lock): true when the executor is unhealthy,
     * so this event gets no timestamp and is counted instead (reported later as a drop event).
     */
    private boolean withhold() {
        if (refuseWhenUnhealthy && shared.unhealthy()) {
            withheld++;
            return true;
        }
        return false;
    }

    /** Whether the executor clock's unhealthy flag is set now. */
    boolean unhealthyNow() {
        return shared != null && shared.unhealthy();
    }

    void attach(EventLog log) { this.log = log; }

    public HybridLogicalClock clock() { return clock; }

    /**
     * Takes the next slot for an event stamped {@code hlc} (called under the lock); 0 when the
     * ring is full (the event is counted as lost) or there is no log.
     */
    private long claim(EventLog l, long hlc, byte kind, byte flags, Object ref) {
        long pt = reading != null ? reading.last : clock.physicalNanos();
        if (l == null) return 0;
        if (claimed - l.consumed >= l.capacity) {
            lost++;
            return 0;
        }
        long t = ++claimed;
        int b = l.base(t);
        l.slots[b + EventLog.HLC] = hlc;
        l.slots[b + EventLog.PT] = pt;
        byte f = shared != null && shared.unhealthy() ? (byte) (flags | EventLog.UNHEALTHY) : flags;
        l.slots[b + EventLog.META] = (kind & 0xFF) | (f & 0xFF) << 8;
        l.ref[l.index(t)] = ref;
        return t;
    }

    /**
     * A send that is logged at once (blocking writes, framed messages): returns its HLC for the
     * header, 0 when none was handed out (fail-stop, failMode refuse).
     */
    public long send(Object conn, long bytes, long off, long msg, boolean hasMsg) {
        EventLog l = log;
        long hlc;
        long t;
        byte flags = (byte) ((hasMsg ? EventLog.HAS_MSG : 0) | (off >= 0 ? EventLog.HAS_OFF : 0));
        synchronized (this) {
            if (withhold()) return 0;
            hlc = clock.now();
            t = claim(l, hlc, EventLog.SEND, flags, conn);
        }
        if (t != 0) {
            int b = l.base(t);
            l.slots[b + EventLog.BYTES] = bytes;
            l.slots[b + EventLog.OFF] = off;
            l.slots[b + EventLog.MSG] = msg;
            l.publish(t);
        }
        return hlc;
    }

    /**
     * A framed message, logged at once: its HLC and message id for the header go into {@code out}
     * (the message id is taken under the same lock, so it costs no further shared counter). While
     * fail-stopped with failMode refuse the HLC is 0 (the header then says "no timestamp") and
     * nothing is logged.
     */
    void sendMessage(Object conn, long bytes, long off, PendingSend out) {
        EventLog l = log;
        long t;
        synchronized (this) {
            out.msg = msgPrefix | (++msgCounter & 0xFFFFFFFFL);
            if (withhold()) {
                out.hlc = 0;
                return;
            }
            out.hlc = clock.now();
            t = claim(l, out.hlc, EventLog.SEND, (byte) (EventLog.HAS_MSG | (off >= 0 ? EventLog.HAS_OFF : 0)), conn);
        }
        if (t != 0) {
            int b = l.base(t);
            l.slots[b + EventLog.BYTES] = bytes;
            l.slots[b + EventLog.OFF] = off;
            l.slots[b + EventLog.MSG] = out.msg;
            l.publish(t);
        }
    }

    /**
     * Stamps a send before its bytes can leave (with a message id when {@code message}); {@link #sent}
     * or {@link #notSent} must follow.
     */
    void claimSend(Object conn, boolean message, PendingSend p) {
        EventLog l = log;
        synchronized (this) {
            p.msg = message ? msgPrefix | (++msgCounter & 0xFFFFFFFFL) : 0;
            if (p.withheld = withhold()) {
                p.hlc = 0;
                p.ticket = 0;
                return;
            }
            p.hlc = clock.now();
            p.ticket = claim(l, p.hlc, EventLog.SEND, message ? EventLog.HAS_MSG : 0, conn);
        }
    }

    /** The kernel took {@code bytes} (> 0) of the pending send; {@code off} < 0 for none (UDP). */
    void sent(PendingSend p, long bytes, long off) {
        p.withheld = false;
        long t = p.ticket;
        if (t == 0) return;
        p.ticket = 0;
        EventLog l = log;
        int b = l.base(t);
        l.slots[b + EventLog.BYTES] = bytes;
        l.slots[b + EventLog.OFF] = off;
        l.slots[b + EventLog.MSG] = p.msg;
        if (off >= 0) l.slots[b + EventLog.META] |= EventLog.HAS_OFF << 8;
        l.publish(t);
    }

    /** Nothing of the pending send went out: no event (its clock tick is simply unused). */
    void notSent(PendingSend p) {
        if (p.withheld) {
            p.withheld = false;
            synchronized (this) {
                // a write that took nothing is no event, so it is no withheld event either
                if (withheld > withheldReported) withheld--;
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
     * or logged (counted instead).
     */
    public void receive(Object conn, long remote, long msgId, long bytes, long off) {
        EventLog l = log;
        HybridLogicalClock.Update u;
        long t;
        if (remote == 0) {
            synchronized (this) {
                if (withhold()) return;
                t = claim(l, clock.now(), EventLog.RECV, (byte) (EventLog.HAS_MSG | (off >= 0 ? EventLog.HAS_OFF : 0)), conn);
            }
            if (t != 0) {
                int b = l.base(t);
                l.slots[b + EventLog.BYTES] = bytes;
                l.slots[b + EventLog.OFF] = off;
                l.slots[b + EventLog.MSG] = msgId;
                l.publish(t);
            }
            return;
        }
        synchronized (this) {
            if (withhold()) return;
            u = clock.update(remote);
            boolean refused = u instanceof HybridLogicalClock.Refused;
            t = claim(l, u.timestamp(), EventLog.RECV, (byte) (EventLog.HAS_MSG | EventLog.HAS_RHLC | (off >= 0 ? EventLog.HAS_OFF : 0)
                    | (refused ? EventLog.REFUSED : 0)), conn);
        }
        if (t != 0) {
            int b = l.base(t);
            l.slots[b + EventLog.BYTES] = bytes;
            l.slots[b + EventLog.OFF] = off;
            l.slots[b + EventLog.MSG] = msgId;
            l.slots[b + EventLog.RHLC] = remote;
            l.publish(t);
        }
        if (u instanceof HybridLogicalClock.Refused r) Agent.warnRefused(conn instanceof TcpConnection c ? c : null, r);
    }

    /** A receive on a plain connection (or an unframed datagram): a local tick; {@code off} < 0 for none. */
    public void plainReceive(Object conn, long bytes, long off) {
        EventLog l = log;
        long t;
        synchronized (this) {
            if (withhold()) return;
            t = claim(l, clock.now(), EventLog.RECV, off >= 0 ? EventLog.HAS_OFF : 0, conn);
        }
        if (t != 0) {
            int b = l.base(t);
            l.slots[b + EventLog.BYTES] = bytes;
            l.slots[b + EventLog.OFF] = off;
            l.publish(t);
        }
    }

    /**
     * connect, accept, close (with the connection) or start, stop (with an info text). Start and
     * stop are the stamper's own reports and are stamped even while fail-stopped (then marked
     * unhealthy), like the kernel probe's daemon events.
     */
    public void lifecycle(byte kind, Object connOrInfo) {
        EventLog l = log;
        long t;
        synchronized (this) {
            if (kind != EventLog.START && kind != EventLog.STOP && withhold()) return;
            t = claim(l, clock.now(), kind, (byte) 0, connOrInfo);
        }
        if (t != 0) l.publish(t);
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

    /** The writer's report of lost events; false when the ring is full again (reported later). */
    boolean logDrop(long count) {
        EventLog l = log;
        long t;
        synchronized (this) {
            long hlc = clock.now();
            if (claimed - l.consumed >= l.capacity) return false; // not counted: it is this report itself
            t = claim(l, hlc, EventLog.DROP, (byte) 0, null);
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
        synchronized (this) {
            count = withheld - withheldReported;
            if (count == 0 || l == null || (!evenIfUnhealthy && shared.unhealthy())) return 0;
            long hlc = clock.now();
            if (claimed - l.consumed >= l.capacity) return 0; // the ring is full: reported later
            t = claim(l, hlc, EventLog.DROP, EventLog.FAIL_STOP, null);
            withheldReported = withheld;
        }
        l.slots[l.base(t) + EventLog.BYTES] = count;
        l.publish(t);
        return count;
    }

    /** The last ticket handed out. */
    synchronized long claimedTotal() {
        return claimed;
    }

    /** Events not stamped while fail-stopped (failMode refuse). */
    synchronized long withheldTotal() {
        return withheld;
    }

    boolean refusesWhenUnhealthy() { return refuseWhenUnhealthy; }

    /** Events lost to a full ring (or taken while no log was attached). */
    synchronized long lostTotal() {
        EventLog l = log;
        return lost;
    }
}
