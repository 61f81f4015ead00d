package io.hlctrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.hlctrace.hlc.HybridLogicalClock;

/**
 * Several threads stamp at once; the log must have seq counting 1, 2, 3, ... while the HLC rises
 * with it, keep each thread's own order, and lose nothing it does not report.
 */
class EventLogMergeTest {
    private static final Pattern LINE = Pattern.compile("\"hlc\":\"([0-9a-f]{16})\".*\"seq\":(\\d+),\"kind\":\"(\\w+)\".*?(?:\"dropped\":(\\d+).*)?(?:\"info\":\"t(\\d+) e(\\d+)\")?\\}$");

    private record Run(long events, long dropped, long threads) {}

    private static Run stampConcurrently(Path dir, int threads, int perThread, int capacity) throws Exception {
        Stamper stamper = new Stamper(HybridLogicalClock.local(Duration.ofMillis(500)), null);
        EventLog log = new EventLog(dir, "A", "merge:1", stamper, capacity);
        stamper.attach(log);
        log.start();
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int ti = t;
            ts[t] = new Thread(() -> {
                Stamper.PendingSend p = new Stamper.PendingSend();
                for (int e = 0; e < perThread; e++) {
                    String info = "t" + ti + " e" + e;
                    switch (e % 3) {
                        case 0 -> stamper.lifecycle(EventLog.CONNECT, info);
                        case 1 -> { // a send stamped before its write, published after it
                            stamper.claimSend(info, true, p);
                            stamper.sent(p, 1, -1);
                        }
                        default -> { // a write that took nothing: no event, but the tick and the slot were taken
                            stamper.claimSend("cancelled", true, p);
                            stamper.notSent(p);
                            stamper.lifecycle(EventLog.CLOSE, info);
                        }
                    }
                }
            });
        }
        for (Thread t : ts) t.start();
        for (Thread t : ts) t.join();
        log.close();

        List<String> lines = Files.readAllLines(log.file());
        long prevHlc = 0, seq = 0, events = 0, dropped = 0;
        Map<Long, Long> lastOfThread = new HashMap<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.find(), line);
            long hlc = Long.parseUnsignedLong(m.group(1), 16);
            assertEquals(++seq, Long.parseLong(m.group(2)), "seq counts 1, 2, 3, ...: " + line);
            assertTrue(Long.compareUnsigned(hlc, prevHlc) > 0, "the HLC rises with seq: " + line);
            prevHlc = hlc;
            if (m.group(3).equals("drop")) {
                dropped += Long.parseLong(m.group(4));
                continue;
            }
            assertTrue(m.group(5) != null, "only the threads' events and drop reports are logged: " + line);
            long thread = Long.parseLong(m.group(5)), e = Long.parseLong(m.group(6));
            Long last = lastOfThread.put(thread, e);
            assertTrue(last == null || last < e, "a thread's events stay in its order: " + line);
            events++;
        }
        return new Run(events, dropped, lastOfThread.size());
    }

    @Test
    void threadsMergeIntoOneHlcOrderedLog(@TempDir Path dir) throws Exception {
        int threads = 4, perThread = 30_000;
        Run r = stampConcurrently(dir, threads, perThread, 1 << 18); // room for every event
        assertEquals(0, r.dropped(), "nothing lost while the ring has room");
        assertEquals((long) threads * perThread, r.events(), "every event is in the log");
        assertEquals(threads, r.threads());
    }

    @Test
    void whatFullBuffersLoseIsReported(@TempDir Path dir) throws Exception {
        int threads = 3, perThread = 20_000;
        // 16 slots: the writer (10 ms naps) cannot keep up
        Run r = stampConcurrently(dir, threads, perThread, 16);
        assertTrue(r.dropped() > 0, "some events were lost to full buffers");
        assertEquals((long) threads * perThread, r.events() + r.dropped(), "every event is either logged or counted in a drop report");
    }
}
