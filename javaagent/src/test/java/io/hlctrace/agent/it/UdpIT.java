package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** UDP: DatagramChannel client, DatagramSocket server; one header per datagram between agents, none to python3. */
@Timeout(120)
class UdpIT {
    @TempDir
    Path dir;

    private static final String PY_UDP_CLIENT = String.join("\n",
            "import hashlib, os, socket, sys",
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)",
            "for n in (1, 100, 5000, 30000):",
            "    d = os.urandom(n); s.sendto(d, ('127.0.0.1', int(sys.argv[1])))",
            "    a = s.recv(200).decode()",
            "    if a != '%s %d' % (hashlib.sha256(d).hexdigest(), n): sys.exit('MISMATCH ' + a)",
            "print('OK')");

    @Test
    void datagramsBetweenAgentsCarryTheClockAndPlainPeersGetTheirBytes() throws Exception {
        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs") + "\n");
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "udp-server")) {
            int port = server.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "udp-client", Integer.toString(port), "30", "5")) {
                assertEquals(0, client.waitFor(), client.stderrText());
                assertEquals("OK 30", client.nextLine());
            }
            Process py = new ProcessBuilder("python3", "-c", PY_UDP_CLIENT, Integer.toString(port)).redirectErrorStream(true).start();
            try {
                String out = new String(py.getInputStream().readAllBytes()).trim();
                assertTrue(py.waitFor(30, TimeUnit.SECONDS));
                assertEquals("OK", out, "python3 (no agent) must get unframed answers");
            } finally {
                py.destroyForcibly();
            }
            server.stop();
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        Map<String, Map<String, String>> sends = EventLogs.byMsg(events, "send");
        int framed = 0;
        int plain = 0;
        for (Map<String, String> r : EventLogs.kind(events, "recv")) {
            assertEquals("udp", r.get("proto"));
            if (r.get("msg") == null) { plain++; continue; }
            Map<String, String> s = sends.get(r.get("msg"));
            assertNotNull(s, "receive without its send: " + r);
            assertEquals(s.get("bytes"), r.get("bytes"));
            assertTrue(Long.compareUnsigned(EventLogs.hlc(r), EventLogs.hlc(s)) > 0, "receive before its send: " + r);
            framed++;
        }
        assertEquals(60, framed, "30 requests and 30 answers between the agents");
        assertEquals(4, plain, "the 4 datagrams of python3");
        long plainSends = EventLogs.kind(events, "send").stream().filter(s -> s.get("msg") == null).count();
        assertEquals(4, plainSends, "exactly the 4 answers to python3 went unframed");
        assertEquals(60, sends.size());
    }
}
