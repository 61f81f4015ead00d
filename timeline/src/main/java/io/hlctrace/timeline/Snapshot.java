package io.hlctrace.timeline;

import io.hlctrace.hlc.HlcTimestamp;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cut of all events with hlc <= t: per process its last event, and whether the cut is
 * consistent (no receive in it whose send is outside; no process with a later event inside and an
 * earlier one outside). With HLC timestamps any t gives a consistent cut without waiting out clock
 * uncertainty; a log that violates HLC order shows up here as an inconsistent cut.
 */
public final class Snapshot implements EdgeFinder.Listener {
    public static final int MAX_KEPT = 100;

    private final long at;
    private final EdgeFinder finder;
    private final Map<String, Event> lastInCut = new TreeMap<>();
    private final Map<String, Event> firstAfter = new TreeMap<>();
    private final List<Edge> crossing = new ArrayList<>();
    private long crossingCount;
    private long inCut, total;

    public Snapshot(long at, Diagnostics diagnostics) {
        this.at = at;
        this.finder = new EdgeFinder(this, diagnostics);
    }

    public static Snapshot of(long at, List<Event> events) {
        Snapshot s = new Snapshot(at, new Diagnostics());
        List<Event> sorted = new ArrayList<>(events);
        sorted.sort(ClockKind.HLC_ORDER);
        for (Event e : sorted) s.accept(e);
        s.finish();
        return s;
    }

    public static Snapshot of(long at, MergedEvents merged, Diagnostics diagnostics) throws IOException {
        Snapshot s = new Snapshot(at, diagnostics);
        for (Event e; (e = merged.next()) != null; ) s.accept(e);
        s.finish();
        return s;
    }

    public boolean inCut(Event e) { return Long.compareUnsigned(e.hlc(), at) <= 0; }

    public void accept(Event e) {
        if (!finder.accept(e)) return;
        total++;
        String lane = e.lane();
        if (inCut(e)) {
            inCut++;
            Event last = lastInCut.get(lane);
            if (last == null || e.seq() > last.seq()) lastInCut.put(lane, e);
        } else if (!firstAfter.containsKey(lane)) {
            firstAfter.put(lane, e);
        }
    }

    @Override
    public void edge(Event from, Event to, Edge.Kind kind) {
        if (inCut(to) && !inCut(from)) {
            crossingCount++;
            if (crossing.size() < MAX_KEPT) crossing.add(new Edge(from, to, kind));
        }
    }

    public void finish() { finder.finish(); }

    public long at() { return at; }

    /** Per lane (node/proc), its last event in the cut; lanes with nothing before t are absent. */
    public Map<String, Event> frontier() { return lastInCut; }

    /** Lanes that have events, all after t. */
    public List<String> lanesNotStarted() {
        List<String> l = new ArrayList<>();
        for (String lane : firstAfter.keySet()) if (!lastInCut.containsKey(lane)) l.add(lane);
        return l;
    }

    /** Edges from outside the cut into it (the first {@link #MAX_KEPT}). */
    public List<Edge> crossingEdges() { return List.copyOf(crossing); }

    public long crossingCount() { return crossingCount; }

    public boolean consistent() { return crossingCount == 0; }

    public long eventsInCut() { return inCut; }

    public long events() { return total; }

    public void print(PrintStream out) {
        out.printf("cut at hlc %s (%s): %d of %d events%n", HlcTimestamp.toHex(at), HlcTimestamp.toSortableString(at), inCut, total);
        for (Map.Entry<String, Event> en : lastInCut.entrySet()) out.println("  " + en.getKey() + ": last event " + en.getValue().describe());
        for (String lane : lanesNotStarted()) out.println("  " + lane + ": no event at or before the cut");
        for (Edge e : crossing) {
            out.println("  inconsistent: " + e.to().describe() + " is in the cut but " + (e.kind() == Edge.Kind.MESSAGE ? "its send " : "its process predecessor ")
                    + e.from().describe() + " is not");
        }
        if (crossingCount > crossing.size()) out.println("  ... and " + (crossingCount - crossing.size()) + " more");
        out.println(consistent() ? "consistent: no event in the cut depends on an event outside it"
                : "NOT consistent: " + crossingCount + " events in the cut depend on events outside it");
        if (finder.unmatchedRecvs() > 0) out.println("note: " + finder.unmatchedRecvs() + " receives have no logged send (not counted as inconsistency)");
    }
}
