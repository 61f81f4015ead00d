package io.hlctrace.demo.compare;

import io.hlctrace.timeline.Diagnostics;
import io.hlctrace.timeline.Edge;
import io.hlctrace.timeline.Event;
import io.hlctrace.timeline.EventLogs;
import io.hlctrace.timeline.HappenedBefore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A recorded run read from event logs through the timeline's API (reader and happened-before
 * graph), turned into the comparison's {@link EventGraph}. Real time comes from the caller, who
 * knows how each executor's clock was skewed.
 */
public final class RecordedRun {
    /** Real time of an event, from what the caller knows about the executor's clock. */
    @FunctionalInterface
    public interface TrueTime {
        long trueNanos(Event e);
    }

    private final EventGraph graph;
    private final List<Event> events;
    private final HappenedBefore happenedBefore;
    private final Diagnostics diagnostics;

    private RecordedRun(EventGraph graph, List<Event> events, HappenedBefore hb, Diagnostics diagnostics) {
        this.graph = graph;
        this.events = events;
        this.happenedBefore = hb;
        this.diagnostics = diagnostics;
    }

    public static RecordedRun read(List<Path> logs, TrueTime trueTime) throws IOException {
        Diagnostics d = new Diagnostics();
        List<Event> all = EventLogs.readAll(logs, d);
        HappenedBefore hb = HappenedBefore.of(all, d);
        List<Event> used = hb.events();
        Map<Event, Integer> index = new IdentityHashMap<>();
        List<EventGraph.Event> events = new ArrayList<>(used.size());
        for (Event e : used) {
            int i = events.size();
            index.put(e, i);
            String conn = e.local() != null && e.remote() != null ? e.local() + ">" + e.remote() : null;
            events.add(new EventGraph.Event(i, e.node(), e.proc(), e.seq(), e.kind(), e.pt(), e.hlc(), trueTime.trueNanos(e), conn));
        }
        List<EventGraph.Edge> edges = new ArrayList<>(hb.edges().size());
        for (Edge e : hb.edges()) {
            Integer from = index.get(e.from()), to = index.get(e.to());
            if (from == null || to == null) throw new IllegalStateException("happened-before edge to an event it did not list: " + e);
            edges.add(new EventGraph.Edge(from, to, e.kind() == Edge.Kind.MESSAGE ? EventGraph.EdgeKind.MESSAGE : EventGraph.EdgeKind.PROCESS));
        }
        return new RecordedRun(new EventGraph(events, edges), used, hb, d);
    }

    /**
     * The recorded events with the Lamport and vector clocks of the comparison filled in (the
     * schema's optional {@code lamport} and {@code vc} fields), so that {@code hlctrace timeline
     * verify --clock lamport|vector} can check them independently of this code.
     */
    public List<Event> withLogicalClocks(ClockComparison.Comparison c) {
        if (c.graph() != graph) throw new IllegalArgumentException("the comparison is of another run");
        List<Event> out = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            out.add(new Event(e.v(), e.hlc(), e.node(), e.proc(), e.seq(), e.kind(), e.pt(), e.src(), e.msg(), e.proto(), e.local(), e.remote(),
                    e.bytes(), e.offStart(), e.offEnd(), e.rhlc(), e.refused(), e.unhealthy(), c.lamport()[i], c.vector()[i], e.dropped(), e.info(),
                    e.file(), e.line()));
        }
        return out;
    }

    public EventGraph graph() { return graph; }
    public List<Event> events() { return events; }
    public HappenedBefore happenedBefore() { return happenedBefore; }
    public Diagnostics diagnostics() { return diagnostics; }

    /**
     * Real time from an executor's skewed clock: inverts {@code pt = t + offset + (t - epoch) * ppm / 1e6}
     * (SkewedPhysicalClock's formula), to the nanosecond for the demo's skews.
     */
    public static long realTimeOf(long pt, long offsetNanos, double driftPpm, long driftEpochNanos) {
        double rate = driftPpm / 1e6;
        long elapsed = pt - offsetNanos - driftEpochNanos;
        return pt - offsetNanos - Math.round(elapsed * (rate / (1 + rate)));
    }
}
