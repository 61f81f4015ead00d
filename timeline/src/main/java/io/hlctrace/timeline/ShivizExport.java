package io.hlctrace.timeline;

import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.VectorClock;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ShiViz export with vector clocks computed from the happened-before graph. Events are written
 * in HLC order, which is a topological order of the graph when the log is consistent. When it is
 * not (a refused remote timestamp, a broken clock), an event must not be written before the events
 * it depends on, so two passes: the first finds the edges that go backwards in HLC order, the
 * second holds back each such target (and what depends on it) until its source has been written.
 * Memory: the open sends' clocks, plus the held-back events while a backward edge is open.
 */
final class ShivizExport {
    /** Beyond this many backward edges, the rest are left out of the clocks (with a warning) rather than held. */
    static final int MAX_BACKWARD_EDGES = 1 << 20;

    private final Writer out;
    private final Diagnostics diagnostics;
    private final Map<String, VectorClock> laneClock = new HashMap<>();
    /** Clocks of sends whose receives may still come: a msg send's until its receive, plain sends' up to a cap. */
    private final Map<Event, VectorClock> clockOf = new java.util.LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Event, VectorClock> eldest) { return size() > EdgeFinder.DEFAULT_MAX_PENDING; }
    };
    /** event key (file:line) -> keys of the sources that arrive after it in HLC order */
    private final Map<String, Set<String>> lateSources;
    private final Map<String, Pending> heldByKey = new HashMap<>();
    /** the source key -> events waiting for it */
    private final Map<String, List<Pending>> waitingFor = new HashMap<>();
    private final Map<String, Pending> heldLaneTail = new HashMap<>();
    private final StringBuilder sb = new StringBuilder(256);
    private long written;

    private static final class Pending {
        final Event event;
        final List<Event> sources = new ArrayList<>();
        int unmet;

        Pending(Event event) { this.event = event; }
    }

    private ShivizExport(Writer out, Diagnostics diagnostics, Map<String, Set<String>> lateSources) {
        this.out = out;
        this.diagnostics = diagnostics;
        this.lateSources = lateSources;
    }

    static long write(List<Path> files, MergedEvents merged, Writer out, Diagnostics diagnostics) throws IOException {
        Map<String, Set<String>> late = new HashMap<>();
        int[] count = {0};
        try (MergedEvents first = EventLogs.merge(files, new Diagnostics(0))) {
            Event[] current = new Event[1];
            EdgeFinder finder = new EdgeFinder((from, to, kind) -> {
                if (from == current[0] && to != current[0] && count[0] < MAX_BACKWARD_EDGES) {
                    late.computeIfAbsent(to.where(), k -> new HashSet<>()).add(from.where());
                    count[0]++;
                }
            }, new Diagnostics(0));
            for (Event e; (e = first.next()) != null; ) {
                current[0] = e;
                finder.accept(e);
            }
        }
        ShivizExport x = new ShivizExport(out, diagnostics, late);
        out.write(Exports.SHIVIZ_REGEX);
        out.write("\n\n");
        x.run(merged);
        return x.written;
    }

    private void run(MergedEvents merged) throws IOException {
        List<Event> incoming = new ArrayList<>();
        Event[] current = new Event[1];
        EdgeFinder finder = new EdgeFinder((from, to, kind) -> {
            if (kind != Edge.Kind.MESSAGE) return;
            if (to == current[0]) {
                incoming.add(from);
            } else {
                Pending p = heldByKey.get(to.where());
                if (p != null) {
                    p.sources.add(from);
                } else {
                    diagnostics.warning(to.file(), to.line(), "ShiViz export: the message from " + from.where()
                            + " arrives after its receive in HLC order; its edge is left out of the vector clocks");
                }
            }
        }, diagnostics);
        for (Event e; (e = merged.next()) != null; ) {
            current[0] = e;
            incoming.clear();
            if (!finder.accept(e)) continue;
            Pending p = new Pending(e);
            p.sources.addAll(incoming);
            String lane = e.lane();
            Pending tail = heldLaneTail.get(lane);
            if (tail != null) wait(p, tail.event.where());
            for (Event s : incoming) {
                if (heldByKey.containsKey(s.where())) wait(p, s.where());
            }
            Set<String> late = lateSources.remove(e.where());
            if (late != null) for (String k : late) wait(p, k);
            if (p.unmet == 0) {
                emit(p);
            } else {
                heldByKey.put(e.where(), p);
                heldLaneTail.put(lane, p);
            }
        }
        finder.finish();
        // sources that never came (cannot happen when both passes read the same files): write the rest anyway
        if (!heldByKey.isEmpty()) {
            List<Pending> rest = new ArrayList<>(heldByKey.values());
            rest.sort((a, b) -> ClockKind.HLC.compare(a.event, b.event));
            for (Pending p : rest) if (heldByKey.containsKey(p.event.where())) { p.unmet = 0; emit(p); }
        }
    }

    private void wait(Pending p, String sourceKey) {
        p.unmet++;
        waitingFor.computeIfAbsent(sourceKey, k -> new ArrayList<>()).add(p);
    }

    private void emit(Pending first) throws IOException {
        List<Pending> ready = new ArrayList<>();
        ready.add(first);
        while (!ready.isEmpty()) {
            Pending p = ready.remove(ready.size() - 1);
            Event e = p.event;
            heldByKey.remove(e.where());
            String lane = e.lane();
            if (heldLaneTail.get(lane) == p) heldLaneTail.remove(lane);
            String host = Exports.shivizHost(e);
            VectorClock vc = laneClock.getOrDefault(host, VectorClock.ZERO);
            for (Event s : p.sources) {
                VectorClock sent = clockOf.get(s);
                if (sent != null) vc = vc.merge(sent);
                release(s);
            }
            vc = vc.tick(host);
            laneClock.put(host, vc);
            if (e.isSend()) clockOf.put(e, vc);
            line(e, host, vc);
            List<Pending> waiters = waitingFor.remove(e.where());
            if (waiters != null) for (Pending w : waiters) if (--w.unmet == 0) ready.add(w);
        }
    }

    /** A msg send has exactly one receive: its clock is not needed after it. */
    private void release(Event send) {
        if (send.msg() != null) clockOf.remove(send);
    }

    private void line(Event e, String host, VectorClock vc) throws IOException {
        sb.setLength(0);
        sb.append(e.kind()).append(' ').append(HlcTimestamp.toSortableString(e.hlc())).append(" hlc=").append(HlcTimestamp.toHex(e.hlc()))
                .append(" pt=").append(e.pt());
        if (e.msg() != null) sb.append(" msg=").append(e.msg());
        if (e.refused()) sb.append(" REFUSED");
        sb.append(" at ").append(e.where());
        for (int i = 0; i < sb.length(); i++) if (sb.charAt(i) == '\n' || sb.charAt(i) == '\r') sb.setCharAt(i, ' ');
        out.write(sb.toString());
        out.write('\n');
        out.write(host);
        out.write(' ');
        out.write(vc.toString());
        out.write('\n');
        written++;
    }
}
