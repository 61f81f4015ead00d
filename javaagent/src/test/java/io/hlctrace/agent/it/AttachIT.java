package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.sun.tools.attach.VirtualMachine;

/** agentmain: attached to a running JVM, connections open before stay plain, new ones are framed. */
@Timeout(120)
class AttachIT {
    @TempDir
    Path dir;

    @Test
    void attachingKeepsOpenConnectionsPlainAndFramesNewOnes() throws Exception {
        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs")
                + "\npeers:\n  - {hosts: [127.0.0.1]}\n");
        byte[] before = new byte[50_000];
        new Random(3).nextBytes(before);
        try (ChildJvm server = ChildJvm.plain(dir, "sink-server", "4")) {
            int port = server.port();
            try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port)) {
                OutputStream out = open.getOutputStream();
                out.write(before, 0, 20_000);
                out.flush();
                VirtualMachine vm = VirtualMachine.attach(Long.toString(server.process.pid()));
                try {
                    vm.loadAgent(Path.of(ChildJvm.AGENT_JAR).toAbsolutePath().toString(), cfg.toString());
                } finally {
                    vm.detach();
                }
                out.write(before, 20_000, 30_000);
                open.shutdownOutput();
                String answer = new String(open.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
                assertEquals(UninstrumentedPeersIT.sha256(before) + " " + before.length, answer, "the connection open before the attach is untouched");
            }
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "send-client", Integer.toString(port), "3", "30000", "9")) {
                assertEquals(0, client.waitFor(), client.stderrText());
            }
            server.stop();
            assertTrue(server.stderrText().contains("attached to a running JVM"), server.stderrText());
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        List<Map<String, String>> serverRecvs = EventLogs.kind(events, "recv").stream().filter(e -> e.get("local").endsWith(":" + e.get("local").split(":")[1])
                && e.get("_file").equals(fileOf(events, "accept"))).toList();
        assertFalse(serverRecvs.isEmpty());
        long framed = serverRecvs.stream().filter(e -> e.get("msg") != null).count();
        long plain = serverRecvs.stream().filter(e -> e.get("msg") == null).count();
        assertTrue(framed > 0, "new connections after the attach are framed");
        assertTrue(plain > 0, "the connection open before the attach is observed, plain");
    }

    /** The log file of the process that accepted connections (the attached server). */
    private static String fileOf(List<Map<String, String>> events, String kind) {
        return EventLogs.kind(events, kind).get(0).get("_file");
    }
}
