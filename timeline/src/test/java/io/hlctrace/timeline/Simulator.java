package io.hlctrace.timeline;

import io.hlctrace.hlc.AtomicClockCell;
import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.ManualPhysicalClock;
import io.hlctrace.hlc.VectorClock;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A simulated system with known ground truth: N executors whose physical clocks are skewed and
 * drifting ({@link ManualPhysicalClock} driven from one true time), each with one
 * {@link HybridLogicalClock} shared by its processes, plus per-process Lamport and vector clocks.
 * Processes do local events and send random messages, paired by msg id or (a fraction) by
 * connection byte offsets; every event is written to one log file per process with
 * {@link EventLogLine}. The true vector clock of each event is the ground truth.
 */
final class Simulator {
    record Config(int nodes, int procsPerNode, int steps, long seed, double offPairedFraction, long maxSkewNanos, Duration maxOffset) {
        static Config small(long seed) {
            return new Config(3, 2, 400, seed, 0.3, 2_000_000_000L, HybridLogicalClock.GUARD_OFF);
        }
    }

    /** One simulated event and its true vector clock. */
    record Truth(String node, String proc, long seq, VectorClock vc, String sendOf, long hlc) {}

    final Config config;
    final List<Path> files = new ArrayList<>();
    /** key node/proc#seq */
    final Map<String, Truth> truth = new LinkedHashMap<>();
    /** recv key -> send key */
    final Map<String, String> messageEdges = new LinkedHashMap<>();
    long events;
    long refused;

    private Simulator(Config config) { this.config = config; }

    static String key(String node, String proc, long seq) { return node + "/" + proc + "#" + seq; }

    static String key(Event e) { return key(e.node(), e.proc(), e.seq()); }

    private static final class Lane {
        final int index;
        final String node, proc, name;
        final Writer out;
        long seq;
        long lamport;
        VectorClock vc = VectorClock.ZERO;

        Lane(int index, String node, String proc, Writer out) {
            this.index = index; this.node = node; this.proc = proc; this.out = out; this.name = node + "/" + proc;
        }
    }

    private record Message(Lane from, Lane to, long hlc, long lamport, VectorClock vc, String msg, long offStart, long offEnd, String sendKey) {}

    static Simulator run(Config c, Path dir) throws IOException {
        Simulator s = new Simulator(c);
        s.simulate(dir);
        return s;
    }

    private void simulate(Path dir) throws IOException {
        Random rnd = new Random(config.seed());
        long trueTime = 1_763_861_366_000_000_000L;
        int n = config.nodes();
        ManualPhysicalClock[] physical = new ManualPhysicalClock[n];
        HybridLogicalClock[] hlc = new HybridLogicalClock[n];
        long[] skew = new long[n];
        double[] driftPpm = new double[n];
        for (int i = 0; i < n; i++) {
            skew[i] = i == 0 ? 0 : (long) ((rnd.nextDouble() * 2 - 1) * config.maxSkewNanos());
            driftPpm[i] = (rnd.nextDouble() * 2 - 1) * 100;
            physical[i] = new ManualPhysicalClock(trueTime + skew[i]);
            hlc[i] = new HybridLogicalClock(new AtomicClockCell(), physical[i], config.maxOffset());
        }
        List<Lane> lanes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < config.procsPerNode(); p++) {
                String node = "n" + i;
                String proc = "svc" + p + ":" + (1000 + 10 * i + p);
                Path f = dir.resolve(node + "-" + p + ".jsonl");
                files.add(f);
                lanes.add(new Lane(lanes.size(), node, proc, Files.newBufferedWriter(f, StandardCharsets.UTF_8)));
            }
        }
        // per (from, to) FIFO of messages in flight, TCP-like; byte offsets per direction
        Map<Long, ArrayDeque<Message>> inFlight = new HashMap<>();
        Map<Long, long[]> offsets = new HashMap<>();
        long msgCounter = 0x3fa2c1d400000000L;
        StringBuilder sb = new StringBuilder(300);
        for (int step = 0; step < config.steps(); step++) {
            trueTime += 1 + rnd.nextInt(200_000); // up to 200 us between events
            for (int i = 0; i < n; i++) {
                long elapsed = trueTime - 1_763_861_366_000_000_000L;
                physical[i].set(trueTime + skew[i] + (long) (elapsed * driftPpm[i] / 1e6));
            }
            Lane lane = lanes.get(rnd.nextInt(lanes.size()));
            int ni = Integer.parseInt(lane.node.substring(1));
            int action = rnd.nextInt(10);
            // receive if something waits for this lane
            Message m = null;
            if (action < 5) {
                List<ArrayDeque<Message>> waiting = new ArrayList<>();
                for (Lane from : lanes) {
                    ArrayDeque<Message> q = inFlight.get(pair(from, lane));
                    if (q != null && !q.isEmpty()) waiting.add(q);
                }
                if (!waiting.isEmpty()) m = waiting.get(rnd.nextInt(waiting.size())).poll();
            }
            lane.seq++;
            String k = key(lane.node, lane.proc, lane.seq);
            EventLogLine line = new EventLogLine(sb);
            if (m != null) {
                HybridLogicalClock.Update u = hlc[ni].update(m.hlc());
                boolean isRefused = u instanceof HybridLogicalClock.Refused;
                if (isRefused) refused++;
                lane.lamport = Math.max(lane.lamport, m.lamport()) + 1;
                lane.vc = lane.vc.merge(m.vc()).tick(lane.name);
                head(line, u.timestamp(), lane, "recv", physical[ni].nanos());
                if (m.msg() != null) line.str(EventLogLine.MSG, m.msg());
                line.conn("tcp", addr(lane, m.from()), addr(m.from(), lane)); // receiver's view: local is own side
                line.num(EventLogLine.BYTES, m.offEnd() - m.offStart());
                if (m.msg() == null) line.range(EventLogLine.OFF, m.offStart(), m.offEnd());
                line.hex(EventLogLine.RHLC, m.hlc());
                if (isRefused) line.bool(EventLogLine.REFUSED, true);
                tail(line, lane);
                truth.put(k, new Truth(lane.node, lane.proc, lane.seq, lane.vc, m.sendKey(), u.timestamp()));
                messageEdges.put(k, m.sendKey());
            } else if (action < 8) {
                Lane to = lanes.get(rnd.nextInt(lanes.size()));
                if (to == lane) to = lanes.get((lane.index + 1) % lanes.size());
                long ts = hlc[ni].now();
                lane.lamport++;
                lane.vc = lane.vc.tick(lane.name);
                long size = 1 + rnd.nextInt(4000);
                long[] off = offsets.computeIfAbsent(pair(lane, to), x -> new long[1]);
                boolean byOff = rnd.nextDouble() < config.offPairedFraction();
                String msg = byOff ? null : String.format("%016x", ++msgCounter);
                long start = off[0];
                off[0] += size;
                head(line, ts, lane, "send", physical[ni].nanos());
                if (msg != null) line.str(EventLogLine.MSG, msg);
                line.conn("tcp", addr(lane, to), addr(to, lane));
                line.num(EventLogLine.BYTES, size);
                if (msg == null) line.range(EventLogLine.OFF, start, start + size);
                tail(line, lane);
                // A message on a connection is either framed (msg) or plain (off); keep one connection per kind.
                inFlight.computeIfAbsent(pair(lane, to), x -> new ArrayDeque<>())
                        .add(new Message(lane, to, ts, lane.lamport, lane.vc, msg, start, start + size, k));
                truth.put(k, new Truth(lane.node, lane.proc, lane.seq, lane.vc, null, ts));
                if (msg != null) off[0] = start; // framed messages do not advance the plain byte stream
            } else {
                long ts = hlc[ni].now();
                lane.lamport++;
                lane.vc = lane.vc.tick(lane.name);
                head(line, ts, lane, "local", physical[ni].nanos());
                line.str(EventLogLine.INFO, "step " + step);
                tail(line, lane);
                truth.put(k, new Truth(lane.node, lane.proc, lane.seq, lane.vc, null, ts));
            }
            lane.out.write(line.end());
            lane.out.write('\n');
            events++;
        }
        for (Lane l : lanes) l.out.close();
    }

    private static long pair(Lane from, Lane to) { return ((long) from.index << 32) | to.index; }

    /** The address of {@code self} on its connection with {@code peer}: one port per pair. */
    private static String addr(Lane self, Lane peer) {
        return "10.77.0." + (self.index + 1) + ":" + (20000 + 100 * self.index + peer.index);
    }

    private static void head(EventLogLine line, long hlc, Lane lane, String kind, long pt) {
        line.hlc(hlc).str(EventLogLine.NODE, lane.node).str(EventLogLine.PROC, lane.proc).num(EventLogLine.SEQ, lane.seq)
                .str(EventLogLine.KIND, kind).num(EventLogLine.PT, pt).str(EventLogLine.SRC, EventLogLine.SRC_AGENT);
    }

    private static void tail(EventLogLine line, Lane lane) {
        line.num(EventLogLine.LAMPORT, lane.lamport).raw(EventLogLine.VC, lane.vc.toString());
    }
}
