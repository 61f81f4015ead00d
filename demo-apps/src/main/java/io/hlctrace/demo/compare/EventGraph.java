package io.hlctrace.demo.compare;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * One recorded run as the comparison sees it: the events with their recorded physical time and
 * HLC, the real time at which each happened (known to a simulation, or recovered from the known
 * simulated skew of a real run), and the happened-before edges (process order and messages).
 */
public final class EventGraph {
    /**
     * An event. {@code lane} is the process (node + proc); {@code conn} is the connection as seen
     * from this side ("local>remote"), used only to pair connect with accept for the clock (d) that
     * merges only there.
     */
    public record Event(int index, String node, String proc, long seq, String kind, long pt, long hlc, long trueNanos, String conn) {
        public String lane() { return node + "/" + proc; }
    }

    public enum EdgeKind { PROCESS, MESSAGE }

    public record Edge(int from, int to, EdgeKind kind) {}

    private final List<Event> events;
    private final List<Edge> edges;
    private final List<List<Edge>> incoming;

    public EventGraph(List<Event> events, List<Edge> edges) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).index() != i) throw new IllegalArgumentException("event " + i + " has index " + events.get(i).index());
        }
        this.events = List.copyOf(events);
        this.edges = List.copyOf(edges);
        List<List<Edge>> in = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) in.add(new ArrayList<>(2));
        for (Edge e : edges) {
            if (e.from() < 0 || e.from() >= events.size() || e.to() < 0 || e.to() >= events.size()) throw new IllegalArgumentException("edge out of range: " + e);
            in.get(e.to()).add(e);
        }
        this.incoming = in;
    }

    public List<Event> events() { return events; }
    public List<Edge> edges() { return edges; }
    public List<Edge> incoming(int event) { return Collections.unmodifiableList(incoming.get(event)); }

    public long messageEdges() {
        return edges.stream().filter(e -> e.kind() == EdgeKind.MESSAGE).count();
    }

    /**
     * A topological order of the graph that, among ready events, takes the one that happened first
     * in real time: the order in which a real system could have stamped them. Fails on a cycle,
     * which a correct pairing never produces.
     */
    public int[] realTimeTopologicalOrder() {
        return realTimeTopologicalOrder(List.of());
    }

    /** The same, with {@code extra} ordering constraints (pairs from, to) besides the graph's edges. */
    public int[] realTimeTopologicalOrder(List<int[]> extra) {
        int n = events.size();
        int[] pending = new int[n];
        List<List<Integer>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(new ArrayList<>(2));
        for (Edge e : edges) {
            pending[e.to()]++;
            out.get(e.from()).add(e.to());
        }
        for (int[] e : extra) {
            pending[e[1]]++;
            out.get(e[0]).add(e[1]);
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>(Comparator.<Integer>comparingLong(i -> events.get(i).trueNanos()).thenComparingInt(i -> i));
        for (int i = 0; i < n; i++) if (pending[i] == 0) ready.add(i);
        int[] order = new int[n];
        int k = 0;
        while (!ready.isEmpty()) {
            int e = ready.poll();
            order[k++] = e;
            for (int t : out.get(e)) if (--pending[t] == 0) ready.add(t);
        }
        if (k != n) throw new IllegalStateException("the happened-before graph has a cycle: " + (n - k) + " events are on or after it");
        return order;
    }
}
