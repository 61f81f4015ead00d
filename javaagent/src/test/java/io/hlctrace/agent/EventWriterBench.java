package io.hlctrace.agent;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import io.hlctrace.hlc.HybridLogicalClock;

/**
 * The event-log writer's CPU per event (scripts/bench-agent.sh prints it first): a ping-pong's
 * sends and receives formatted by the writer's byte path, against the EventLogLine path (builder,
 * String, UTF-8 copy) for the same events in the same run. Under load this thread's time is taken
 * from the application's, so it is the log's main cost there.
 */
public final class EventWriterBench {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("hlctrace-writer-bench");
        try {
            Stamper stamper = new Stamper(HybridLogicalClock.local(Duration.ofMillis(500)), null);
            AgentRuntime rt = new AgentRuntime(AgentConfig.defaults(), stamper, null, null);
            EventLog log = new EventLog(dir, "bench", "AgentBench:12345", stamper, 64);
            TcpConnection conn = new TcpConnection(rt, new InetSocketAddress("127.0.0.1", 40000), new InetSocketAddress("127.0.0.1", 8080), false, false);
            int n = 400_000, rounds = 7;
            long[] bytePath = new long[rounds], linePath = new long[rounds];
            long sink = 0;
            StringBuilder sb = new StringBuilder();
            for (int r = -2; r < rounds; r++) { // two warm-up rounds
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    event(log, sb, conn, i, false);
                    if ((i & 127) == 127) sink += log.takeBytes();
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < n; i++) sink += event(log, sb, conn, i, true);
                long t2 = System.nanoTime();
                if (r >= 0) {
                    bytePath[r] = t1 - t0;
                    linePath[r] = t2 - t1;
                }
            }
            Arrays.sort(bytePath);
            Arrays.sort(linePath);
            double b = bytePath[rounds / 2] / (double) n, l = linePath[rounds / 2] / (double) n;
            System.out.printf("agent log writer, ns per event (median of %d rounds of %d events): byte path %.0f, EventLogLine path %.0f, byte/EventLogLine %.2f%s%n",
                    rounds, n, b, l, b / l, sink == 42 ? " " : "");
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) Files.delete(f);
            }
            Files.delete(dir);
        }
    }

    /** Event i of a ping-pong: a send or a receive of 1 KiB with message id, offsets and (receive) remote HLC. */
    private static int event(EventLog log, StringBuilder sb, TcpConnection conn, int i, boolean linePath) throws Exception {
        boolean recv = (i & 1) == 1;
        int k = recv ? EventLog.RECV : EventLog.SEND;
        int f = EventLog.HAS_MSG | EventLog.HAS_OFF | (recv ? EventLog.HAS_RHLC : 0);
        long hlc = 0xe6a1b2c3d4e50000L + i, pt = 1_763_861_366_123_456_789L + i * 2_700L, msg = 0x3fa2c1d400000011L + (i >>> 1);
        if (!linePath) {
            log.write(sb, k, f, hlc, pt, msg, 1024, i * 1024L, hlc - 1, conn);
            return 0;
        }
        return log.format(sb, k, f, hlc, pt, msg, 1024, i * 1024L, hlc - 1, conn, i + 1).getBytes(StandardCharsets.UTF_8).length;
    }
}
