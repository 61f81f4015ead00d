package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** JVM to JVM over java.net.Socket, both with the real agent jar. */
@Timeout(120)
class SocketFramingIT {
    @TempDir
    Path dir;

    private Path config(String name, String node, String... extra) throws Exception {
        Path f = dir.resolve(name + ".yml");
        StringBuilder sb = new StringBuilder();
        sb.append("node: ").append(node).append('\n');
        sb.append("clock: ").append(dir.resolve("clock-" + node).resolve("clock")).append('\n');
        sb.append("logDir: ").append(dir.resolve("logs")).append('\n');
        for (String e : extra) sb.append(e).append('\n');
        Files.writeString(f, sb);
        return f;
    }

    @Test
    void randomPayloadsWithRandomSplitsArriveIntactAndEverySendPairsWithALaterReceive() throws Exception {
        // same node: the client learns from the executor's port registry that the server is instrumented
        Path cfg = config("a", "exec1");
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "sink-server", "7")) {
            int port = server.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "send-client", Integer.toString(port), "12", "150000", "42")) {
                assertEquals(0, client.waitFor(), "client: " + client.nextLine() + "\n" + client.stderrText());
            }
            server.stop();
            assertFalse(server.stderrText().contains("hlctrace agent: WARNING"), server.stderrText());
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        Map<String, Map<String, String>> sends = EventLogs.byMsg(events, "send");
        Map<String, Map<String, String>> recvs = EventLogs.byMsg(events, "recv");
        long clientToServerBytes = 0;
        for (Map<String, String> s : sends.values()) {
            if (s.get("remote").endsWith(":" + s.get("remote").split(":")[1]) && s.get("_file").contains("Peer")) {
                Map<String, String> r = recvs.get(s.get("msg"));
                assertNotNull(r, "send " + s + " has no matching receive");
                assertEquals(s.get("bytes"), r.get("bytes"));
                assertTrue(Long.compareUnsigned(EventLogs.hlc(r), EventLogs.hlc(s)) > 0, "receive " + r + " not after send " + s);
                assertEquals(s.get("hlc"), r.get("rhlc"));
            }
        }
        for (Map<String, String> s : EventLogs.kind(events, "send")) {
            assertNotNull(s.get("msg"), "an instrumented peer must get framed messages: " + s);
        }
        for (Map<String, String> r : EventLogs.kind(events, "recv")) {
            assertNotNull(r.get("msg"), "every receive between two agents carries a message id: " + r);
            assertNotNull(sends.get(r.get("msg")), "receive without send: " + r);
        }
        for (Map<String, String> s : sends.values()) clientToServerBytes += Long.parseLong(s.get("bytes"));
        // 12 connections x 150000 bytes, plus 12 answer lines
        assertTrue(clientToServerBytes > 12 * 150_000L, "bytes sent " + clientToServerBytes);
        assertEquals(sends.size(), recvs.size());
        assertEquals(12, EventLogs.kind(events, "connect").size());
        assertEquals(12, EventLogs.kind(events, "accept").size());
    }

    @Test
    void receiverTwoHoursBehindStillOrdersEveryReceiveAfterItsSend() throws Exception {
        Path serverCfg = config("b", "behind", "skew: {offset: -2h}", "maxOffset: 3h", "peers:", "  - {hosts: [127.0.0.1]}");
        Path clientCfg = config("c", "ontime", "peers:", "  - {hosts: [127.0.0.1]}");
        try (ChildJvm server = ChildJvm.withAgent(dir, serverCfg, "sink-server", "9")) {
            int port = server.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, clientCfg, "send-client", Integer.toString(port), "3", "40000", "5")) {
                assertEquals(0, client.waitFor(), client.stderrText());
            }
            server.stop();
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        Map<String, Map<String, String>> sends = EventLogs.byMsg(events, "send");
        List<Map<String, String>> recvs = EventLogs.kind(events, "recv");
        assertFalse(recvs.isEmpty());
        int skewedPairs = 0;
        for (Map<String, String> r : recvs) {
            Map<String, String> s = sends.get(r.get("msg"));
            assertNotNull(s, "receive without its send: " + r);
            assertTrue(Long.compareUnsigned(EventLogs.hlc(r), EventLogs.hlc(s)) > 0, "receive " + r + " ordered before its send " + s);
            long ptGap = Long.parseLong(s.get("pt")) - Long.parseLong(r.get("pt"));
            if (r.get("node").equals("behind") && ptGap > Duration.ofMinutes(119).toNanos()) skewedPairs++;
            assertFalse(r.containsKey("refused"), "a clock behind never refuses: " + r);
        }
        assertTrue(skewedPairs > 0, "the receiver's physical clock was not 2 h behind the sender's");
    }

    @Test
    void brokenConfigIsReportedWithItsLineAndTheApplicationRunsUninstrumented() throws Exception {
        Path bad = dir.resolve("bad.yml");
        Files.writeString(bad, "node: x\nlogDir: " + dir.resolve("logs") + "\nmaxOffset: soon\n");
        try (ChildJvm server = ChildJvm.withAgent(dir, bad, "sink-server", "1")) {
            int port = server.port();
            try (ChildJvm client = ChildJvm.plain(dir, "send-client", Integer.toString(port), "2", "10000", "3")) {
                assertEquals(0, client.waitFor(), client.stderrText());
            }
            server.stop();
            String err = server.stderrText();
            assertTrue(err.contains("bad.yml:3:") && err.contains("UNINSTRUMENTED"), err);
        }
        assertTrue(EventLogs.read(dir.resolve("logs")).isEmpty(), "an agent with a broken config must not log");
    }
}
