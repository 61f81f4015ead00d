package io.hlctrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.hlctrace.hlc.HybridLogicalClock;

/**
 * The event log writes its common lines (send, recv, connect, accept, close of a TCP connection)
 * straight as bytes; they must be exactly what EventLogLine writes for the same event.
 */
class EventLogFormatTest {
    @Test
    void directLinesEqualEventLogLine(@TempDir Path dir) throws Exception {
        AgentConfig config = AgentConfig.parse("node: A\n", "test");
        Stamper stamper = new Stamper(HybridLogicalClock.local(Duration.ofMillis(500)), null);
        AgentRuntime rt = new AgentRuntime(config, stamper, null, null);
        // a node and process name that need escaping and are not ASCII
        EventLog log = new EventLog(dir, "n\u00f6de \"A\"", "app\\x:42", stamper, 64);
        TcpConnection[] conns = {
            new TcpConnection(rt, new InetSocketAddress("127.0.0.1", 40000), new InetSocketAddress("127.0.0.1", 8080), false, false),
            new TcpConnection(rt, new InetSocketAddress("::1", 8080), new InetSocketAddress("::1", 51234), true, false),
        };
        Random rnd = new Random(7);
        byte[] kinds = {EventLog.SEND, EventLog.RECV, EventLog.CONNECT, EventLog.ACCEPT, EventLog.CLOSE};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            int k = kinds[rnd.nextInt(kinds.length)];
            int f = rnd.nextInt(32) & (EventLog.HAS_MSG | EventLog.HAS_RHLC | EventLog.REFUSED | EventLog.UNHEALTHY | EventLog.HAS_OFF);
            long hlc = rnd.nextLong(), msg = rnd.nextLong(), rhlc = rnd.nextLong();
            long pt = i % 7 == 0 ? rnd.nextInt(10) : Math.abs(rnd.nextLong());
            long bytes = rnd.nextInt(3) == 0 ? rnd.nextInt(10) : Math.abs(rnd.nextLong() >>> 2);
            long off = rnd.nextInt(3) == 0 ? 0 : Math.abs(rnd.nextLong() >>> 3);
            Object conn = conns[rnd.nextInt(conns.length)];
            log.write(sb, k, f, hlc, pt, msg, bytes, off, rhlc, conn);
            String direct = log.takeLines();
            String reference = log.format(new StringBuilder(), k, f, hlc, pt, msg, bytes, off, rhlc, conn, i + 1) + "\n";
            assertEquals(reference, direct, "event " + i + " kind " + k + " flags " + f);
        }
        Files.deleteIfExists(log.file());
    }
}
