package io.hlctrace.demo.compare;

import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The comparison's scenarios, simulated with the real hlc classes. Each returns the simulation so a
 * caller can write its logs and compare its clocks.
 */
public final class Scenarios {
    private Scenarios() {}

    public static final long TWO_HOURS = Duration.ofHours(2).toNanos();
    public static final long C_AHEAD = Duration.ofMillis(350).toNanos();
    public static final double C_DRIFT_PPM = 50;
    /** Guard large enough for the demo's two-hour skew: without clock sync B would refuse everyone else. */
    public static final Duration DEMO_MAX_OFFSET = Duration.ofHours(3);
    /** 2026-11-23T08:20:00Z, the wall time of the seed-000 failure case. */
    public static final long EIGHT_TWENTY = LocalDateTime.of(2026, 11, 23, 8, 20).toEpochSecond(ZoneOffset.UTC) * 1_000_000_000L;

    /** How clients reuse connections to their servers. */
    public enum Connections { KEEP_ALIVE, POOLED, PER_REQUEST }

    /**
     * The demo's topology on three executors with the demo's skews (A correct, B two hours behind,
     * C 350 ms ahead drifting 50 ppm): a client on A calls an HTTP gateway on B, which calls a raw
     * TCP service on C and an HTTP service on A; the raw service calls back into a python3-like
     * service on B. Every request's causal chain crosses all three executors.
     */
    public static Simulation demoTopology(Connections mode, int requests, long seed, Duration maxOffset) {
        Random r = new Random(seed);
        Simulation sim = new Simulation(EIGHT_TWENTY, maxOffset);
        Simulation.Node a = sim.node("A", "10.203.1.2", 0, 0);
        Simulation.Node b = sim.node("B", "10.203.2.2", -TWO_HOURS, 0);
        Simulation.Node c = sim.node("C", "10.203.3.2", C_AHEAD, C_DRIFT_PPM);
        Simulation.Proc client = a.proc("client:101");
        Simulation.Proc httpSvc = a.proc("python3:102");
        Simulation.Proc gateway = b.proc("gateway:201");
        Simulation.Proc pySvc = b.proc("python3:202");
        Simulation.Proc rawSvc = c.proc("rawsvc:301");
        int pool = mode == Connections.POOLED ? 3 : 1;
        List<Simulation.Connection> toGateway = new ArrayList<>(), toRaw = new ArrayList<>(), toHttp = new ArrayList<>(), toPy = new ArrayList<>();
        for (int i = 0; mode != Connections.PER_REQUEST && i < pool; i++) {
            toGateway.add(sim.connect(client, gateway, 8080, latency(r)));
            toRaw.add(sim.connect(gateway, rawSvc, 9090, latency(r)));
            toHttp.add(sim.connect(gateway, httpSvc, 8000, latency(r)));
            toPy.add(sim.connect(rawSvc, pySvc, 8001, latency(r)));
        }
        for (int i = 0; i < requests; i++) {
            sim.advance(Duration.ofMillis(5 + r.nextInt(45)).toNanos());
            Simulation.Connection g = pick(sim, mode, toGateway, i, client, gateway, 8080, r);
            Simulation.Connection raw = pick(sim, mode, toRaw, i, gateway, rawSvc, 9090, r);
            Simulation.Connection http = pick(sim, mode, toHttp, i, gateway, httpSvc, 8000, r);
            Simulation.Connection py = pick(sim, mode, toPy, i, rawSvc, pySvc, 8001, r);
            if (r.nextInt(4) == 0) client.local("user think time over");
            g.clientToServer(200 + r.nextInt(300), latency(r));
            raw.clientToServer(64, latency(r));
            py.request(120, 300 + r.nextInt(2000), latency(r), service(r));
            raw.serverToClient(128, latency(r));
            if (r.nextBoolean()) http.request(150, 800, latency(r), service(r));
            if (r.nextInt(3) == 0) rawSvc.local("cache refresh");
            g.serverToClient(1000 + r.nextInt(4000), latency(r));
            if (mode == Connections.PER_REQUEST) {
                for (Simulation.Connection x : List.of(g, raw, http, py)) x.close(latency(r));
            }
        }
        return sim;
    }

    private static Simulation.Connection pick(Simulation sim, Connections mode, List<Simulation.Connection> pool, int i,
                                              Simulation.Proc from, Simulation.Proc to, int port, Random r) {
        if (mode == Connections.PER_REQUEST) return sim.connect(from, to, port, latency(r));
        return pool.get(i % pool.size());
    }

    private static long latency(Random r) {
        return 100_000 + r.nextInt(900_000); // 0.1 .. 1 ms on a LAN
    }

    private static long service(Random r) {
        return 200_000 + r.nextInt(3_000_000);
    }

    /**
     * The seed-000 failure case: a and c read 8:20, b reads 6:20, every executor's HLC starts at
     * 8:19. b and c do local events (their wall clocks disagree about the order), c sends to b on one
     * kept-alive connection, and both go on while b's clock keeps drifting (slow, 200 ppm), with more
     * messages from c to b later and from b to a.
     */
    public static Simulation seed000(int rounds, Duration maxOffset) {
        Simulation sim = new Simulation(EIGHT_TWENTY, maxOffset);
        Simulation.Node a = sim.node("a", "10.203.1.2", 0, 0);
        Simulation.Node b = sim.node("b", "10.203.2.2", -TWO_HOURS, -200);
        Simulation.Node c = sim.node("c", "10.203.3.2", 0, 0);
        long shared = Simulation.hlcAt(EIGHT_TWENTY - Duration.ofMinutes(1).toNanos());
        for (Simulation.Node n : List.of(a, b, c)) n.setHlc(shared);
        Simulation.Proc pa = a.proc("app:1"), pb = b.proc("app:2"), pc = c.proc("app:3");
        pb.local("b1");
        sim.advance(1_000_000);
        pc.local("c1");
        sim.advance(1_000_000);
        pb.local("b2");
        sim.advance(1_000_000);
        pc.local("c2");
        Simulation.Connection cb = sim.connect(pc, pb, 7000, 200_000);
        Simulation.Connection ba = sim.connect(pb, pa, 7001, 200_000);
        for (int i = 0; i < rounds; i++) {
            sim.advance(Duration.ofSeconds(1).toNanos());
            cb.clientToServer(100, 300_000);
            for (int k = 0; k < 3; k++) {
                sim.advance(Duration.ofMillis(200).toNanos());
                pb.local("b after message " + i + "." + k);
                pc.local("c after message " + i + "." + k);
            }
            ba.clientToServer(100, 300_000);
            pa.local("a handles " + i);
        }
        return sim;
    }

    /**
     * Clocks that drift again after a sync: B is synced (offset 0) every ten minutes, then drifts
     * 1000 ppm (a bad oscillator: 0.6 s per ten minutes). Messages between A and B are seconds
     * apart, long enough for B's error to outgrow the network latency between syncs.
     */
    public static Simulation driftAfterSync(int minutes, Duration maxOffset) {
        Simulation sim = new Simulation(EIGHT_TWENTY, maxOffset);
        Simulation.Node a = sim.node("A", "10.203.1.2", 0, 0);
        Simulation.Node b = sim.node("B", "10.203.2.2", 0, -1000);
        Simulation.Proc pa = a.proc("svc:1"), pb = b.proc("svc:2");
        Simulation.Connection ab = sim.connect(pa, pb, 7000, 200_000);
        Random r = new Random(7);
        for (int m = 0; m < minutes; m++) {
            if (m % 10 == 0) b.setSkew(0, -1000);
            for (int s = 0; s < 6; s++) {
                sim.advance(Duration.ofSeconds(10).toNanos());
                ab.request(100, 100, 200_000 + r.nextInt(300_000), 1_000_000);
                pb.local("work");
                pa.local("work");
            }
        }
        return sim;
    }
}
