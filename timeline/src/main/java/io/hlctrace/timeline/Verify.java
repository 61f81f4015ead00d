package io.hlctrace.timeline;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that every happened-before edge goes forward under a clock: for the total orders (HLC with
 * the tie-break node, proc, seq; wall = pt; Lamport) the sender or earlier event sorts first; for
 * vector clocks its vector is strictly before. Each violation names both events with file:line.
 *
 * <p>{@link #check(List, ClockKind)} is for lists in memory; {@link #streaming} checks events as
 * the k-way merge delivers them, holding only what {@link EdgeFinder} holds.
 */
public final class Verify {
    /** The violations kept in a result; more are counted. */
    public static final int MAX_VIOLATIONS_KEPT = 1000;

    private Verify() {}

    /** An edge that goes backwards (or sideways) under the clock. */
    public record Violation(Event from, Event to, Edge.Kind kind, ClockKind clock) {
        public String describe() {
            String how = clock == ClockKind.VECTOR ? "but its vector clock " + from.vc() + " is not before " + to.vc()
                    : "but " + clock.label() + " order puts it " + (clock.compare(from, to) == 0 ? "at the same place" : "after");
            return "violation (" + (kind == Edge.Kind.MESSAGE ? "message" : "process order") + "): " + from.describe()
                    + " happened before " + to.describe() + " " + how;
        }
    }

    /** What a verification found. */
    public static final class Result {
        public final ClockKind clock;
        final List<Violation> violations = new ArrayList<>();
        long violationCount;
        long edgesChecked;
        long edgesUncheckable;
        Event uncheckableExample;
        final Stats stats = new Stats();
        EdgeFinder finder;
        Diagnostics diagnostics;

        Result(ClockKind clock) { this.clock = clock; }

        public List<Violation> violations() { return List.copyOf(violations); }

        public long violationCount() { return violationCount; }

        public long edgesChecked() { return edgesChecked; }

        /** Edges with an end that does not carry the clock (e.g. no lamport field): not checked. */
        public long edgesUncheckable() { return edgesUncheckable; }

        public long events() { return stats.events(); }

        public Stats stats() { return stats; }

        public long unmatchedSends() { return finder.unmatchedSends(); }

        public long unmatchedRecvs() { return finder.unmatchedRecvs(); }

        public List<Event> unmatchedSendExamples() { return finder.unmatchedSendExamples(); }

        public List<Event> unmatchedRecvExamples() { return finder.unmatchedRecvExamples(); }

        public long duplicates() { return finder.duplicates(); }

        public Diagnostics diagnostics() { return diagnostics; }

        /** No violations. Input problems are in {@link #diagnostics()}. */
        public boolean consistent() { return violationCount == 0; }

        /** The report printed by {@code hlctrace timeline verify}. */
        public void print(PrintStream out) {
            for (Violation v : violations) out.println(v.describe());
            if (violationCount > violations.size()) out.println("... and " + (violationCount - violations.size()) + " more violations not listed");
            out.printf("%s order: %d events, %d happened-before edges checked, %d violations%n", clock.label(), events(), edgesChecked, violationCount);
            if (edgesUncheckable > 0) {
                out.printf("%d edges not checked: an end does not carry the %s clock (e.g. %s)%n", edgesUncheckable, clock.label(),
                        uncheckableExample == null ? "?" : uncheckableExample.where());
            }
            out.printf("unmatched: %d sends, %d receives%s%n", unmatchedSends(), unmatchedRecvs(),
                    finder.evicted() > 0 ? " (" + finder.evicted() + " given up after " + EdgeFinder.DEFAULT_MAX_PENDING + " were open at once)" : "");
            for (Event e : unmatchedSendExamples()) out.println("  unmatched send " + e.describe());
            for (Event e : unmatchedRecvExamples()) out.println("  unmatched recv " + e.describe());
            if (duplicates() > 0) out.println("duplicates: " + duplicates() + " events (listed above as input problems)");
            for (Stats.Node n : stats.nodes().values()) {
                out.printf("executor %s: %d events, largest l - pt %s (at %s), largest c %d (at %s), %d refused, %d unhealthy, %d dropped%n",
                        n.node, n.events, Report.aheadText(n.maxAheadNanos), n.maxAheadAt.where(), n.maxC, n.maxCAt.where(),
                        n.refused, n.unhealthy, n.dropped);
            }
            if (events() > 0) out.println("largest c overall: " + stats.maxC());
            out.println(consistent() ? "consistent: every happened-before edge goes forward in " + clock.label() + " order"
                    : "NOT consistent: " + violationCount + " happened-before edges go backwards in " + clock.label() + " order");
        }
    }

    /** Verifies a list of events held in memory. */
    public static Result check(List<Event> events, ClockKind clock) {
        return check(events, clock, new Diagnostics());
    }

    public static Result check(List<Event> events, ClockKind clock, Diagnostics diagnostics) {
        Verifier v = streaming(clock, diagnostics);
        HappenedBefore hb = HappenedBefore.of(events, diagnostics);
        for (Event e : hb.events()) v.result.stats.accept(e);
        for (Edge edge : hb.edges()) v.edge(edge.from(), edge.to(), edge.kind());
        v.result.finder = hb.finder(); // the list's unmatched figures, not the unused stream finder's
        return v.result;
    }

    /** A verifier fed one event at a time (in merge order for bounded memory). */
    public static Verifier streaming(ClockKind clock, Diagnostics diagnostics) {
        return new Verifier(clock, diagnostics);
    }

    public static final class Verifier implements EdgeFinder.Listener {
        final Result result;
        private final EdgeFinder finder;

        Verifier(ClockKind clock, Diagnostics diagnostics) {
            result = new Result(clock);
            result.diagnostics = diagnostics;
            finder = new EdgeFinder(this, diagnostics);
            result.finder = finder;
        }

        public void accept(Event e) {
            if (finder.accept(e)) result.stats.accept(e);
        }

        @Override
        public void edge(Event from, Event to, Edge.Kind kind) {
            ClockKind clock = result.clock;
            if (!clock.carriedBy(from) || !clock.carriedBy(to)) {
                result.edgesUncheckable++;
                if (result.uncheckableExample == null) result.uncheckableExample = clock.carriedBy(from) ? to : from;
                return;
            }
            result.edgesChecked++;
            if (!clock.forward(from, to)) {
                result.violationCount++;
                if (result.violations.size() < MAX_VIOLATIONS_KEPT) result.violations.add(new Violation(from, to, kind, clock));
            }
        }

        public Result finish() {
            finder.finish();
            return result;
        }
    }

}
