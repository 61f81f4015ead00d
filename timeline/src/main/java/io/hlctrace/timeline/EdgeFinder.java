package io.hlctrace.timeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Finds the happened-before edges of a stream of events (docs/event-log.md, "Pairing"), keeping
 * only what is still open: per process its last event, and per message the side seen first until
 * the other side arrives. Fed in HLC order (the merge), that is the messages in flight at one
 * moment, so memory does not grow with the log; fed in any other order it still finds every edge,
 * holding more. Events of one process must arrive in seq order (they do: each file is read in
 * order) to get exactly the consecutive process-order edges.
 *
 * <p>Open sends and receives are capped at {@code maxPending}; beyond it the oldest is given up
 * and counted as unmatched ("evicted"), so a log whose peers were never logged cannot exhaust
 * memory.
 */
public final class EdgeFinder {
    /** Receives each edge as soon as both ends are known. */
    @FunctionalInterface
    public interface Listener {
        void edge(Event from, Event to, Edge.Kind kind);
    }

    public static final int DEFAULT_MAX_PENDING = 1 << 20;
    static final int MAX_EXAMPLES = 20;

    private final Listener listener;
    private final Diagnostics diagnostics;
    private final int maxPending;

    private final Map<String, Map<String, Lane>> lastByLane = new HashMap<>();
    private final Map<String, Event> sendsByMsg;
    private final Map<String, Event> recvsByMsg;
    private final Map<Direction, Stream> streams = new HashMap<>();
    private long pendingByOff;

    private long unmatchedSends, unmatchedRecvs, evicted, duplicates;
    private final List<Event> unmatchedSendExamples = new ArrayList<>();
    private final List<Event> unmatchedRecvExamples = new ArrayList<>();
    private long edges;

    public EdgeFinder(Listener listener, Diagnostics diagnostics) {
        this(listener, diagnostics, DEFAULT_MAX_PENDING);
    }

    public EdgeFinder(Listener listener, Diagnostics diagnostics, int maxPending) {
        this.listener = listener;
        this.diagnostics = diagnostics;
        this.maxPending = maxPending;
        this.sendsByMsg = new CappedMap(true);
        this.recvsByMsg = new CappedMap(false);
    }

    /** One direction of one connection: bytes flow from {@code from} to {@code to}. */
    private record Direction(String proto, String from, String to) {}

    /** A send or receive whose bytes are not all paired yet. */
    private static final class Open {
        final Event event;
        long covered;

        Open(Event event) { this.event = event; }

        boolean complete() { return covered >= event.offEnd() - event.offStart(); }
    }

    private static final class Stream {
        final TreeMap<Long, Open> sends = new TreeMap<>();
        final TreeMap<Long, Open> recvs = new TreeMap<>();
        boolean everReceived;
    }

    private final class CappedMap extends LinkedHashMap<String, Event> {
        private final boolean sends;

        CappedMap(boolean sends) { this.sends = sends; }

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Event> eldest) {
            if (size() + pendingByOff <= maxPending) return false;
            evicted++;
            if (sends) unmatchedSend(eldest.getValue()); else unmatchedRecv(eldest.getValue());
            return true;
        }
    }

    /** What is remembered of one process: its last event, and whether its seqs so far were consecutive. */
    private static final class Lane {
        Event last;
        long firstSeq;
        boolean consecutive = true;
    }

    /** Returns false when the event was a duplicate and was not used. */
    public boolean accept(Event e) {
        Map<String, Lane> lanes = lastByLane.computeIfAbsent(e.node(), k -> new HashMap<>());
        Lane lane = lanes.get(e.proc());
        Event last = lane == null ? null : lane.last;
        if (lane == null) {
            lane = new Lane();
            lane.last = e;
            lane.firstSeq = e.seq();
            lanes.put(e.proc(), lane);
        } else if (e.seq() > last.seq()) {
            emit(last, e, Edge.Kind.PROCESS);
            if (e.seq() != last.seq() + 1) lane.consecutive = false;
            lane.last = e;
        } else if (e.seq() == last.seq()) {
            duplicates++;
            if (e.hlc() == last.hlc() && e.kind().equals(last.kind())) {
                diagnostics.error(e.file(), e.line(), "duplicate event: " + e.lane() + " seq " + e.seq() + " was already read at " + last.where() + "; ignored");
            } else {
                diagnostics.error(e.file(), e.line(), "two different events with " + e.lane() + " seq " + e.seq() + " (the other at " + last.where() + "); this one ignored");
            }
            return false;
        } else if (lane.consecutive && e.seq() >= lane.firstSeq) {
            // every seq from firstSeq to last.seq was read already, so this one is a repeat
            duplicates++;
            diagnostics.error(e.file(), e.line(), "duplicate event: " + e.lane() + " seq " + e.seq() + " was already read (seqs " + lane.firstSeq
                    + " to " + last.seq() + " were read before, the last at " + last.where() + "); ignored");
            return false;
        } else {
            diagnostics.warning(e.file(), e.line(), e.lane() + " seq " + e.seq() + " comes after seq " + last.seq() + " (" + last.where()
                    + "): the process's events are out of seq order in the input");
            emit(e, last, Edge.Kind.PROCESS);
        }
        if (e.isSend()) send(e);
        else if (e.isRecv()) recv(e);
        return true;
    }

    private void emit(Event from, Event to, Edge.Kind kind) {
        edges++;
        listener.edge(from, to, kind);
    }

    private void send(Event s) {
        if (s.msg() != null) {
            Event r = recvsByMsg.remove(s.msg());
            if (r != null) { emit(s, r, Edge.Kind.MESSAGE); return; }
            Event other = sendsByMsg.put(s.msg(), s);
            if (other != null) {
                diagnostics.error(s.file(), s.line(), "message id " + s.msg() + " was already sent at " + other.where() + "; ids must be unique");
                unmatchedSend(other);
            }
        } else if (s.hasOff() && s.local() != null && s.remote() != null && s.offEnd() > s.offStart()) {
            Stream st = streams.computeIfAbsent(new Direction(s.proto(), s.local(), s.remote()), k -> new Stream());
            Open open = new Open(s);
            pairWith(open, st.recvs, true);
            if (!open.complete()) put(st.sends, open, true);
        }
    }

    private void recv(Event r) {
        if (r.msg() != null) {
            Event s = sendsByMsg.remove(r.msg());
            if (s != null) { emit(s, r, Edge.Kind.MESSAGE); return; }
            Event other = recvsByMsg.put(r.msg(), r);
            if (other != null) {
                diagnostics.error(r.file(), r.line(), "message id " + r.msg() + " was already received at " + other.where() + " with no send between");
                unmatchedRecv(other);
            }
        } else if (r.hasOff() && r.local() != null && r.remote() != null && r.offEnd() > r.offStart()) {
            Stream st = streams.computeIfAbsent(new Direction(r.proto(), r.remote(), r.local()), k -> new Stream());
            st.everReceived = true;
            Open open = new Open(r);
            pairWith(open, st.sends, false);
            if (!open.complete()) put(st.recvs, open, false);
        }
    }

    /** Pairs {@code open} with the overlapping entries of the other side; removes those now complete. */
    private void pairWith(Open open, TreeMap<Long, Open> others, boolean openIsSend) {
        long a = open.event.offStart(), b = open.event.offEnd();
        Long from = others.floorKey(a);
        NavigableMap<Long, Open> candidates = others.subMap(from == null ? a : from, true, b, false);
        Iterator<Open> it = candidates.values().iterator();
        while (it.hasNext()) {
            Open o = it.next();
            long lo = Math.max(a, o.event.offStart()), hi = Math.min(b, o.event.offEnd());
            if (hi <= lo) continue;
            if (openIsSend) emit(open.event, o.event, Edge.Kind.MESSAGE); else emit(o.event, open.event, Edge.Kind.MESSAGE);
            open.covered += hi - lo;
            o.covered += hi - lo;
            if (o.complete()) { it.remove(); pendingByOff--; }
        }
    }

    private void put(TreeMap<Long, Open> side, Open open, boolean isSend) {
        Open replaced = side.put(open.event.offStart(), open);
        if (replaced != null) {
            diagnostics.warning(open.event.file(), open.event.line(), "byte range [" + open.event.offStart() + "," + open.event.offEnd()
                    + ") of this connection direction was already used at " + replaced.event.where() + " (connection reused?); the earlier one is given up");
            if (isSend) unmatchedSend(replaced.event); else unmatchedRecv(replaced.event);
        } else {
            pendingByOff++;
        }
        if (pendingByOff + sendsByMsg.size() + recvsByMsg.size() > maxPending) {
            Map.Entry<Long, Open> eldest = side.pollFirstEntry();
            pendingByOff--;
            evicted++;
            if (isSend) unmatchedSend(eldest.getValue().event); else unmatchedRecv(eldest.getValue().event);
        }
    }

    private void unmatchedSend(Event e) {
        unmatchedSends++;
        if (unmatchedSendExamples.size() < MAX_EXAMPLES) unmatchedSendExamples.add(e);
    }

    private void unmatchedRecv(Event e) {
        unmatchedRecvs++;
        if (unmatchedRecvExamples.size() < MAX_EXAMPLES) unmatchedRecvExamples.add(e);
    }

    /** Everything still open is unmatched. Call once, after the last event. */
    public void finish() {
        for (Event s : sendsByMsg.values()) unmatchedSend(s);
        for (Event r : recvsByMsg.values()) unmatchedRecv(r);
        sendsByMsg.clear();
        recvsByMsg.clear();
        for (Map.Entry<Direction, Stream> en : streams.entrySet()) {
            Stream st = en.getValue();
            if (!st.everReceived && !st.sends.isEmpty()) {
                Direction d = en.getKey();
                diagnostics.warning(st.sends.firstEntry().getValue().event.file(), 0, st.sends.size() + " sends on " + d.proto() + " " + d.from()
                        + " -> " + d.to() + " were never received by a logged process (is the peer logged?)");
            }
            for (Open o : st.sends.values()) unmatchedSend(o.event);
            for (Open o : st.recvs.values()) unmatchedRecv(o.event);
        }
        streams.clear();
        pendingByOff = 0;
    }

    public long edgeCount() { return edges; }

    public long unmatchedSends() { return unmatchedSends; }

    public long unmatchedRecvs() { return unmatchedRecvs; }

    /** Open sends/receives given up because more than maxPending were open at once (counted as unmatched too). */
    public long evicted() { return evicted; }

    public long duplicates() { return duplicates; }

    public List<Event> unmatchedSendExamples() { return List.copyOf(unmatchedSendExamples); }

    public List<Event> unmatchedRecvExamples() { return List.copyOf(unmatchedRecvExamples); }

    /** Number of processes (lanes) seen. */
    public int laneCount() {
        int n = 0;
        for (Map<String, Lane> m : lastByLane.values()) n += m.size();
        return n;
    }
}
