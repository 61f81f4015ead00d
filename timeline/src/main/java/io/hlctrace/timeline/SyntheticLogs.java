package io.hlctrace.timeline;

import io.hlctrace.hlc.AtomicClockCell;
import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.ManualPhysicalClock;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes large, realistic event logs for the benchmark and the bounded-memory test, streaming (it
 * holds only the messages in flight): executors with skewed physical clocks and one HLC each,
 * processes that send (by msg id, or a fifth of them on plain connections paired by byte offsets),
 * receive and do local work. One file per process, as the agent writes them.
 */
public final class SyntheticLogs {
    private SyntheticLogs() {}

    private record InFlight(long hlc, String msg, long offStart, long offEnd, int from) {}

    public static List<Path> write(Path dir, int nodes, int procsPerNode, long events, long seed) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom rnd = new SplittableRandom(seed);
        long t0 = 1_763_861_366_000_000_000L;
        ManualPhysicalClock[] physical = new ManualPhysicalClock[nodes];
        HybridLogicalClock[] clocks = new HybridLogicalClock[nodes];
        long[] skew = new long[nodes];
        for (int i = 0; i < nodes; i++) {
            skew[i] = i == 0 ? 0 : rnd.nextLong(-500_000_000L, 500_000_000L);
            physical[i] = new ManualPhysicalClock(t0 + skew[i]);
            clocks[i] = new HybridLogicalClock(new AtomicClockCell(), physical[i], HybridLogicalClock.GUARD_OFF);
        }
        int lanes = nodes * procsPerNode;
        List<Path> files = new ArrayList<>();
        OutputStream[] out = new OutputStream[lanes];
        String[] node = new String[lanes], proc = new String[lanes];
        long[] seq = new long[lanes];
        @SuppressWarnings("unchecked") ArrayDeque<InFlight>[] inbox = new ArrayDeque[lanes];
        long[][] offsets = new long[lanes][lanes];
        for (int l = 0; l < lanes; l++) {
            node[l] = "node-" + (l / procsPerNode);
            proc[l] = "svc" + (l % procsPerNode) + ":" + (4000 + l);
            Path f = dir.resolve(node[l] + "_" + (l % procsPerNode) + ".jsonl");
            files.add(f);
            out[l] = new BufferedOutputStream(Files.newOutputStream(f), 1 << 16);
            inbox[l] = new ArrayDeque<>();
        }
        StringBuilder sb = new StringBuilder(320);
        long trueTime = t0;
        long msgId = 0x5a17000000000000L;
        try {
            for (long i = 0; i < events; i++) {
                trueTime += 1 + rnd.nextInt(20_000);
                int l = rnd.nextInt(lanes);
                int n = l / procsPerNode;
                physical[n].set(trueTime + skew[n]);
                int action = rnd.nextInt(100);
                EventLogLine line = new EventLogLine(sb);
                seq[l]++;
                if (action < 50 && !inbox[l].isEmpty()) {
                    InFlight m = inbox[l].poll();
                    long ts = clocks[n].update(m.hlc).timestamp();
                    head(line, ts, node[l], proc[l], seq[l], EventLogLine.KIND_RECV, physical[n].nanos());
                    if (m.msg != null) line.str(EventLogLine.MSG, m.msg);
                    line.conn("tcp", addr(l, m.from), addr(m.from, l)).num(EventLogLine.BYTES, m.offEnd - m.offStart);
                    if (m.msg == null) line.range(EventLogLine.OFF, m.offStart, m.offEnd);
                    line.hex(EventLogLine.RHLC, m.hlc);
                } else if (action < 90) {
                    int to = rnd.nextInt(lanes - 1);
                    if (to >= l) to++;
                    long ts = clocks[n].now();
                    long size = 64 + rnd.nextInt(2000);
                    boolean plain = rnd.nextInt(5) == 0;
                    String msg = plain ? null : HlcTimestamp.toHex(++msgId);
                    long start = offsets[l][to];
                    if (plain) offsets[l][to] += size;
                    head(line, ts, node[l], proc[l], seq[l], EventLogLine.KIND_SEND, physical[n].nanos());
                    if (msg != null) line.str(EventLogLine.MSG, msg);
                    line.conn("tcp", addr(l, to), addr(to, l)).num(EventLogLine.BYTES, size);
                    if (plain) line.range(EventLogLine.OFF, start, start + size);
                    inbox[to].add(new InFlight(ts, msg, start, start + size, l));
                } else {
                    long ts = clocks[n].now();
                    head(line, ts, node[l], proc[l], seq[l], EventLogLine.KIND_LOCAL, physical[n].nanos());
                }
                byte[] bytes = line.end().getBytes(StandardCharsets.ISO_8859_1);
                out[l].write(bytes);
                out[l].write('\n');
            }
        } finally {
            for (OutputStream o : out) o.close();
        }
        return files;
    }

    /** Plain TCP delivers in order per direction: a lane's inbox is FIFO, which keeps that true. */
    private static String addr(int self, int peer) {
        return "10.77." + self + ".1:" + (20000 + peer);
    }

    private static void head(EventLogLine line, long hlc, String node, String proc, long seq, String kind, long pt) {
        line.hlc(hlc).str(EventLogLine.NODE, node).str(EventLogLine.PROC, proc).num(EventLogLine.SEQ, seq)
                .str(EventLogLine.KIND, kind).num(EventLogLine.PT, pt).str(EventLogLine.SRC, EventLogLine.SRC_AGENT);
    }
}
