package io.hlctrace.demo.compare;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** The comparison scenarios of docs/comparison.md, simulated, compared and rendered. */
public final class SimulatedComparisons {
    private SimulatedComparisons() {}

    /** Scenario title -> its simulation, in the order the document shows them. */
    public static Map<String, Simulation> scenarios() {
        Map<String, Simulation> m = new LinkedHashMap<>();
        m.put("Demo skews (A correct, B 2 h behind, C +350 ms drifting 50 ppm), keep-alive connections",
                Scenarios.demoTopology(Scenarios.Connections.KEEP_ALIVE, 300, 1, Scenarios.DEMO_MAX_OFFSET));
        m.put("Same skews, pooled connections (3 per client/server pair, round robin)",
                Scenarios.demoTopology(Scenarios.Connections.POOLED, 300, 1, Scenarios.DEMO_MAX_OFFSET));
        m.put("Same skews, a new connection per request",
                Scenarios.demoTopology(Scenarios.Connections.PER_REQUEST, 300, 1, Scenarios.DEMO_MAX_OFFSET));
        m.put("Seed-000 failure case: a and c at 8:20, b at 6:20 and drifting, shared HLC 8:19",
                Scenarios.seed000(20, Scenarios.DEMO_MAX_OFFSET));
        m.put("Drift again after a sync: B synced every 10 min, drifting 1000 ppm in between",
                Scenarios.driftAfterSync(30, Scenarios.DEMO_MAX_OFFSET));
        m.put("Max-offset guard at 500 ms with B 2 h behind and no clock sync (the guard refuses; fail-stop territory)",
                Scenarios.demoTopology(Scenarios.Connections.KEEP_ALIVE, 100, 1, Duration.ofMillis(500)));
        return m;
    }

    public static String markdown(Path logDir) throws IOException {
        StringBuilder sb = new StringBuilder("# Five clocks on the same events (simulated scenarios)\n\n");
        int i = 0;
        for (var e : scenarios().entrySet()) {
            i++;
            Simulation sim = e.getValue();
            if (logDir != null) sim.writeLogs(logDir.resolve("scenario-" + i));
            ClockComparison.Comparison c = ClockComparison.compare(sim.graph());
            sb.append("## ").append(i).append(". ").append(e.getKey()).append("\n\n");
            sb.append(c.graph().events().size()).append(" events, ").append(c.graph().messageEdges()).append(" messages");
            if (sim.refusedCount() > 0) sb.append(", ").append(sim.refusedCount()).append(" remote timestamps refused by the max-offset guard");
            sb.append(".\n\n").append(ClockComparison.markdownTable(c)).append('\n');
            for (ClockComparison.Result r : c.results()) {
                if (r.firstViolation() != null) sb.append("- first violation of ").append(r.clock().title).append(": ").append(r.firstViolation()).append('\n');
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
