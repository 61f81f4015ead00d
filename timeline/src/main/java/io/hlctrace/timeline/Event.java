package io.hlctrace.timeline;

import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.VectorClock;

/**
 * One parsed line of an event log (docs/event-log.md), with the file and line it came from so every
 * report can point at it.
 *
 * <p>Absent optional fields: strings are {@code null}; {@code bytes}, {@code offStart},
 * {@code offEnd}, {@code lamport} are -1; {@code rhlc} is 0 (no real HLC word is 0);
 * {@code dropped} is 0; {@code vc} is {@code null}.
 *
 * @param v         schema version
 * @param hlc       the HLC word (compare with {@link HlcTimestamp#compare}: it is unsigned)
 * @param node      executor id
 * @param proc      process inside the executor; a lane is (node, proc)
 * @param seq       per-lane sequence number from 1
 * @param kind      one of the {@code EventLogLine.KIND_*} constants
 * @param pt        the executor's physical time in ns since the epoch
 * @param src       {@code agent} or {@code probe}
 * @param msg       message id (16 hex digits) or null
 * @param proto     {@code conn.proto} or null
 * @param local     {@code conn.local} or null
 * @param remote    {@code conn.remote} or null
 * @param bytes     payload bytes or -1
 * @param offStart  {@code off[0]} or -1
 * @param offEnd    {@code off[1]} or -1
 * @param rhlc      the received HLC word or 0
 * @param refused   the max-offset guard refused {@code rhlc}
 * @param unhealthy stamped while clock sync had failed
 * @param lamport   Lamport counter or -1
 * @param vc        vector clock or null
 * @param dropped   events lost before this {@code drop} event, else 0
 * @param info      free text or null
 * @param file      the log file as named on the command line (or by the caller)
 * @param line      1-based line number in {@code file}
 */
public record Event(
        int v, long hlc, String node, String proc, long seq, String kind, long pt, String src,
        String msg, String proto, String local, String remote, long bytes, long offStart, long offEnd,
        long rhlc, boolean refused, boolean unhealthy, long lamport, VectorClock vc, long dropped, String info,
        String file, long line) {

    public boolean isSend() { return EventLogLine.KIND_SEND.equals(kind); }

    public boolean isRecv() { return EventLogLine.KIND_RECV.equals(kind); }

    public boolean hasOff() { return offStart >= 0 && offEnd >= offStart; }

    public boolean hasRhlc() { return rhlc != 0; }

    /** {@code file:line}, the location every diagnostic starts with. */
    public String where() { return file + ":" + line; }

    /** The lane name used in reports: {@code node/proc}. */
    public String lane() { return node + "/" + proc; }

    /** Physical component of the HLC minus the physical time, in ns: how far the HLC ran ahead. */
    public long hlcAheadOfPtNanos() { return HlcTimestamp.toNanos(hlc) - pt; }

    /** A short description for violation reports: where, what, when. */
    public String describe() {
        StringBuilder sb = new StringBuilder(160).append(where()).append(" [").append(kind).append(' ')
                .append(node).append('/').append(proc).append(" seq ").append(seq).append(" hlc ")
                .append(HlcTimestamp.toHex(hlc)).append(' ').append(HlcTimestamp.toSortableString(hlc))
                .append(" pt ").append(pt);
        if (msg != null) sb.append(" msg ").append(msg);
        if (lamport >= 0) sb.append(" lamport ").append(lamport);
        return sb.append(']').toString();
    }

    /** This event under the same identity but at another place (tests inject violations with it). */
    public Event withHlc(long newHlc) {
        return new Event(v, newHlc, node, proc, seq, kind, pt, src, msg, proto, local, remote, bytes, offStart, offEnd,
                rhlc, refused, unhealthy, lamport, vc, dropped, info, file, line);
    }

    /** Writes this event back as one event-log line (no newline), with the schema's field names. */
    public String toJsonLine() {
        EventLogLine l = new EventLogLine();
        l.hlc(hlc).str(EventLogLine.NODE, node).str(EventLogLine.PROC, proc).num(EventLogLine.SEQ, seq)
                .str(EventLogLine.KIND, kind).num(EventLogLine.PT, pt).str(EventLogLine.SRC, src);
        if (msg != null) l.str(EventLogLine.MSG, msg);
        if (proto != null || local != null || remote != null)
            l.conn(proto == null ? "" : proto, local == null ? "" : local, remote == null ? "" : remote);
        if (bytes >= 0) l.num(EventLogLine.BYTES, bytes);
        if (hasOff()) l.range(EventLogLine.OFF, offStart, offEnd);
        if (hasRhlc()) l.hex(EventLogLine.RHLC, rhlc);
        if (refused) l.bool(EventLogLine.REFUSED, true);
        if (unhealthy) l.bool(EventLogLine.UNHEALTHY, true);
        if (dropped != 0) l.num(EventLogLine.DROPPED, dropped);
        if (lamport >= 0) l.num(EventLogLine.LAMPORT, lamport);
        if (vc != null) l.raw(EventLogLine.VC, vc.toString());
        if (info != null) l.str(EventLogLine.INFO, info);
        return l.end();
    }
}
