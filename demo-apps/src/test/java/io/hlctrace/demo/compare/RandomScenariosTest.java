package io.hlctrace.demo.compare;

import io.hlctrace.demo.compare.ClockComparison.Clock;
import io.hlctrace.demo.compare.ClockComparison.Comparison;
import io.hlctrace.hlc.HlcTimestamp;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The theory on random systems: executors with random offsets (up to 3 h either way) and drifts
 * (up to 500 ppm), random processes, connections and messages. Whatever the clocks do, Lamport,
 * vector clocks and hlctrace's HLC order every edge, and the HLC is never ahead of real time by
 * more than the most-ahead physical clock, nor behind its own.
 */
class RandomScenariosTest {

    @Test
    void theoryHoldsOnRandomSystems() {
        for (long seed = 1; seed <= 40; seed++) {
            Random r = new Random(seed);
            Simulation sim = new Simulation(Scenarios.EIGHT_TWENTY, Duration.ofHours(7));
            int nodes = 2 + r.nextInt(4);
            List<Simulation.Proc> procs = new ArrayList<>();
            long maxAhead = 0;
            double maxDrift = 0;
            for (int n = 0; n < nodes; n++) {
                long offset = (long) ((r.nextDouble() * 2 - 1) * Duration.ofHours(3).toNanos());
                double drift = (r.nextDouble() * 2 - 1) * 500;
                Simulation.Node node = sim.node("N" + n, "10.203.9." + (n + 1), offset, drift);
                maxAhead = Math.max(maxAhead, offset);
                maxDrift = Math.max(maxDrift, drift);
                for (int p = 0, k = 1 + r.nextInt(3); p < k; p++) procs.add(node.proc("p" + p + ":" + (100 * n + p)));
            }
            List<Simulation.Connection> conns = new ArrayList<>();
            for (int i = 0, k = 2 + r.nextInt(6); i < k; i++) {
                Simulation.Proc a = procs.get(r.nextInt(procs.size())), b = procs.get(r.nextInt(procs.size()));
                if (a == b) continue;
                conns.add(sim.connect(a, b, 7000 + i, 50_000 + r.nextInt(2_000_000)));
            }
            if (conns.isEmpty()) continue;
            for (int i = 0, k = 50 + r.nextInt(300); i < k; i++) {
                sim.advance(r.nextInt(50_000_000));
                Simulation.Connection c = conns.get(r.nextInt(conns.size()));
                switch (r.nextInt(4)) {
                    case 0 -> c.clientToServer(1 + r.nextInt(1000), 20_000 + r.nextInt(3_000_000));
                    case 1 -> c.serverToClient(1 + r.nextInt(1000), 20_000 + r.nextInt(3_000_000));
                    case 2 -> c.request(100, 200, 20_000 + r.nextInt(3_000_000), r.nextInt(5_000_000));
                    default -> procs.get(r.nextInt(procs.size())).local("work");
                }
            }
            Comparison cmp = ClockComparison.compare(sim.graph());
            String where = "seed " + seed + "\n" + ClockComparison.markdownTable(cmp);
            assertEquals(0, cmp.get(Clock.LAMPORT).violations(), where);
            assertEquals(0, cmp.get(Clock.VECTOR).violations(), where);
            assertEquals(0, cmp.get(Clock.HLC).violations(), where);
            assertEquals(0, sim.refusedCount(), where);
            long elapsed = sim.now() - Scenarios.EIGHT_TWENTY;
            long bound = maxAhead + (long) Math.ceil(elapsed * Math.max(0, maxDrift) / 1e6) + HlcTimestamp.NANOS_PER_L_UNIT_CEIL;
            assertTrue(cmp.get(Clock.HLC).maxAheadNanos() <= bound, "HLC ahead by " + cmp.get(Clock.HLC).maxAheadNanos() + " > bound " + bound + "; " + where);
            for (EventGraph.Event e : cmp.graph().events()) {
                assertTrue(HlcTimestamp.compare(e.hlc(), HlcTimestamp.fromNanos(e.pt())) >= 0, "HLC behind its own physical clock: " + e);
            }
        }
    }
}
