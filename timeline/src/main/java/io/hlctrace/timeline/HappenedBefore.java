package io.hlctrace.timeline;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The happened-before graph of a list of events: process order (consecutive events of one
 * (node, proc) by seq) plus message edges (send to recv by equal {@code msg}; without msg, a recv
 * and the sends of the opposite direction of the same connection whose {@code off} ranges overlap
 * it). For inputs that fit in memory; the CLI streams through {@link EdgeFinder} instead.
 */
public final class HappenedBefore {
    private static final Comparator<Event> PROCESS_ORDER = Comparator.comparing(Event::node).thenComparing(Event::proc)
            .thenComparingLong(Event::seq).thenComparing(Event::file).thenComparingLong(Event::line);

    private final List<Edge> edges;
    private final EdgeFinder finder;
    private final Diagnostics diagnostics;
    private final List<Event> events;

    private HappenedBefore(List<Event> events, List<Edge> edges, EdgeFinder finder, Diagnostics diagnostics) {
        this.events = events;
        this.edges = edges;
        this.finder = finder;
        this.diagnostics = diagnostics;
    }

    public static HappenedBefore of(List<Event> events) {
        return of(events, new Diagnostics());
    }

    /** Duplicates and pairing problems go to {@code diagnostics}. */
    public static HappenedBefore of(List<Event> events, Diagnostics diagnostics) {
        List<Event> sorted = new ArrayList<>(events);
        sorted.sort(PROCESS_ORDER);
        List<Edge> edges = new ArrayList<>();
        List<Event> used = new ArrayList<>(sorted.size());
        EdgeFinder finder = new EdgeFinder((from, to, kind) -> edges.add(new Edge(from, to, kind)), diagnostics, Integer.MAX_VALUE);
        for (Event e : sorted) if (finder.accept(e)) used.add(e);
        finder.finish();
        return new HappenedBefore(List.copyOf(used), List.copyOf(edges), finder, diagnostics);
    }

    /** Every edge; process edges link consecutive events of a lane, message edges a send to its receive. */
    public List<Edge> edges() { return edges; }

    /** The events that were used (duplicates left out), in process order. */
    public List<Event> events() { return events; }

    public List<Edge> messageEdges() {
        return edges.stream().filter(e -> e.kind() == Edge.Kind.MESSAGE).toList();
    }

    public long unmatchedSends() { return finder.unmatchedSends(); }

    public long unmatchedRecvs() { return finder.unmatchedRecvs(); }

    /** Up to 20 unmatched sends. */
    public List<Event> unmatchedSendExamples() { return finder.unmatchedSendExamples(); }

    /** Up to 20 unmatched receives. */
    public List<Event> unmatchedRecvExamples() { return finder.unmatchedRecvExamples(); }

    public long duplicates() { return finder.duplicates(); }

    public Diagnostics diagnostics() { return diagnostics; }

    EdgeFinder finder() { return finder; }
}
