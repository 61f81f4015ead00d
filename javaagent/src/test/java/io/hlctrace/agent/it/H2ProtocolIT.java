package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real protocol of a well-known library, unchanged: H2's TCP server and its JDBC client, both instrumented. */
@Timeout(120)
class H2ProtocolIT {
    @TempDir
    Path dir;

    @Test
    void jdbcOverH2TcpWorksFramedAndEveryMessageIsPaired() throws Exception {
        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs") + "\n");
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "h2-server")) {
            int port = server.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "h2-client", Integer.toString(port), "60")) {
                assertEquals(0, client.waitFor(), client.stderrText());
                assertEquals("OK 60", client.nextLine());
            }
            server.stop();
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        List<Map<String, String>> recvs = EventLogs.assertFramedReceivesFollowTheirSends(events, "the H2 connection must be framed");
        assertTrue(recvs.size() >= 120, "at least a request and a response per row: " + recvs.size());
    }
}
