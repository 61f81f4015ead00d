package io.hlctrace.agent;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HybridLogicalClock;

/**
 * Stamps the process's events. The HLC tick and the sequence number are taken under one lock, so
 * that {@code seq} order (the process order the timeline trusts) never disagrees with HLC order.
 */
public final class Stamper {
    private final HybridLogicalClock clock;
    private final ExecutorClockState shared; // null for a process-local clock
    private long seq;
    private EventLog log;

    Stamper(HybridLogicalClock clock, ExecutorClockState shared) {
        this.clock = clock;
        this.shared = shared;
    }

    void attach(EventLog log) { this.log = log; }

    public HybridLogicalClock clock() { return clock; }

    private EventLog.Event stamp(String kind) {
        EventLog.Event e = new EventLog.Event();
        e.kind = kind;
        synchronized (this) {
            e.hlc = clock.now();
            e.seq = ++seq;
        }
        finish(e);
        return e;
    }

    private void finish(EventLog.Event e) {
        e.pt = clock.physicalNanos();
        if (shared != null && shared.unhealthy()) e.unhealthy = true;
    }

    /** A send: returns the event (its hlc goes into the frame header); the caller fills and logs it. */
    public EventLog.Event send(TcpConnection c, long bytes) {
        EventLog.Event e = stamp("send");
        e.conn = c;
        e.bytes = bytes;
        return e;
    }

    /** The receive of a framed message carrying {@code remote}: merged unless the guard refuses it. */
    public EventLog.Event receive(TcpConnection c, long remote, long msgId, long bytes) {
        EventLog.Event e = new EventLog.Event();
        e.kind = "recv";
        HybridLogicalClock.Update u;
        synchronized (this) {
            u = clock.update(remote);
            e.hlc = u.timestamp();
            e.seq = ++seq;
        }
        finish(e);
        e.conn = c;
        e.bytes = bytes;
        e.msg = msgId;
        e.hasMsg = true;
        e.rhlc = remote;
        e.hasRhlc = true;
        if (u instanceof HybridLogicalClock.Refused r) {
            e.refused = true;
            Agent.warnRefused(c, r);
        }
        return e;
    }

    /** A receive on a plain connection: a local tick. */
    public EventLog.Event plainReceive(TcpConnection c, long bytes) {
        EventLog.Event e = stamp("recv");
        e.conn = c;
        e.bytes = bytes;
        return e;
    }

    public EventLog.Event lifecycle(String kind, TcpConnection c, String info) {
        EventLog.Event e = stamp(kind);
        e.conn = c;
        e.info = info;
        return e;
    }

    EventLog.Event dropEvent(long count) {
        EventLog.Event e = stamp("drop");
        e.dropped = count;
        e.info = count + " events lost: the event queue was full";
        return e;
    }

    public void log(EventLog.Event e) {
        EventLog l = log;
        if (l != null) l.offer(e);
    }
}
