package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SocketChannel (blocking and non-blocking with Selectors) and the JDK HTTP stack, both sides instrumented. */
@Timeout(120)
class NioFramingIT {
    @TempDir
    Path dir;

    private Path config() throws Exception {
        Path f = dir.resolve("agent.yml");
        Files.writeString(f, "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs") + "\n");
        return f;
    }

    /** Every receive has its send, with a higher HLC; every send between agents carries a message id. */
    private static void assertPairedAndOrdered(List<Map<String, String>> events) {
        Map<String, Map<String, String>> sends = EventLogs.byMsg(events, "send");
        Map<String, Map<String, String>> recvs = EventLogs.byMsg(events, "recv");
        assertFalse(recvs.isEmpty());
        for (Map<String, String> r : EventLogs.kind(events, "recv")) {
            assertNotNull(r.get("msg"), "receive without a message id between two agents: " + r);
            Map<String, String> s = sends.get(r.get("msg"));
            assertNotNull(s, "receive without its send: " + r);
            assertEquals(s.get("bytes"), r.get("bytes"));
            assertTrue(Long.compareUnsigned(EventLogs.hlc(r), EventLogs.hlc(s)) > 0, "receive " + r + " not after its send " + s);
        }
        for (Map<String, String> s : EventLogs.kind(events, "send")) {
            assertNotNull(s.get("msg"), "a send between two agents must be framed: " + s);
            assertNotNull(recvs.get(s.get("msg")), "send never received: " + s);
        }
    }

    @Test
    void nonBlockingChannelsWithSelectorsAndEveryMixOfSocketAndChannel() throws Exception {
        Path cfg = config();
        List<String> results = new ArrayList<>();
        try (ChildJvm nioServer = ChildJvm.withAgent(dir, cfg, "nio-sink-server", "21");
             ChildJvm socketServer = ChildJvm.withAgent(dir, cfg, "sink-server", "22")) {
            int nioPort = nioServer.port();
            int socketPort = socketServer.port();
            try (ChildJvm a = ChildJvm.withAgent(dir, cfg, "nio-send-client", Integer.toString(nioPort), "3", "300000", "1");
                 ChildJvm b = ChildJvm.withAgent(dir, cfg, "send-client", Integer.toString(nioPort), "3", "100000", "2");
                 ChildJvm c = ChildJvm.withAgent(dir, cfg, "nio-send-client", Integer.toString(socketPort), "3", "100000", "3");
                 ChildJvm d = ChildJvm.withAgent(dir, cfg, "transfer-client", Integer.toString(socketPort), "500000", "4")) {
                for (ChildJvm client : List.of(a, b, c, d)) {
                    assertEquals(0, client.waitFor(), client.stderrText());
                    results.add(client.nextLine());
                }
            }
            nioServer.stop();
            socketServer.stop();
        }
        assertEquals(List.of("OK 3", "OK 3", "OK 3", "OK 1"), results);
        assertPairedAndOrdered(EventLogs.read(dir.resolve("logs")));
    }

    @Test
    void keepAliveJdkHttpClientToHttpServerPairsEveryRequestAndResponse() throws Exception {
        Path cfg = config();
        int requests = 40;
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "jdk-http-server")) {
            int port = server.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "jdk-http-client", Integer.toString(port), Integer.toString(requests))) {
                assertEquals(0, client.waitFor(), client.stderrText());
                assertEquals("OK " + requests, client.nextLine());
            }
            server.stop();
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        assertPairedAndOrdered(events);
        assertEquals(1, EventLogs.kind(events, "connect").size(), "keep-alive: one connection for all requests");
        long clientSends = EventLogs.kind(events, "send").stream().filter(e -> e.get("_file").contains("Peer") && !e.get("local").endsWith(":" + "x")).count();
        assertTrue(clientSends >= 2L * requests, "each request and each response is at least one message: " + clientSends);
    }
}
