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

/** Forged and broken frames sent by python3 to an instrumented server. */
@Timeout(120)
class BadInputIT {
    @TempDir
    Path dir;

    private static final String PY_FRAMES = String.join("\n",
            "import hashlib, socket, struct, sys, time",
            "port, mode = int(sys.argv[1]), sys.argv[2]",
            "def header(hlc, msg, n): return b'\\xf3HLC' + bytes([1, 0, 0, 28]) + struct.pack('>QQI', hlc, msg, n)",
            "s = socket.create_connection(('127.0.0.1', port), timeout=30)",
            "if mode == 'forged':",
            "    # l = seconds since 1970 << 32: the year 2100",
            "    far = (4102444800 << 32)",
            "    payload = b'forged future ' * 100",
            "    s.sendall(header(far, 0xABCDEF, len(payload)) + payload)",
            "    s.shutdown(socket.SHUT_WR)",
            "    raw = b''",
            "    while True:",
            "        b = s.recv(4096)",
            "        if not b: break",
            "        raw += b",
            "    # the peer showed the signature, so the instrumented server answers framed",
            "    framed = raw.startswith(b'\\xf3HLC')",
            "    answer = (raw[28:] if framed else raw).decode().strip()",
            "    if not framed: print('NOT-FRAMED')",
            "    print('SAME' if answer == '%s %d' % (hashlib.sha256(payload).hexdigest(), len(payload)) else 'DIFF ' + answer)",
            "else:",
            "    s.sendall(header(1 << 32, 7, 1000) + b'0123456789')",
            "    time.sleep(0.2)",
            "    s.close(); print('SAME')");

    private String python(int port, String mode) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", PY_FRAMES, Integer.toString(port), mode).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes()).trim();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            return out;
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aFarFutureHeaderIsRefusedButTheMessageIsDeliveredAndAMidFrameCloseIsAClearError() throws Exception {
        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: guard\nclock: local\nmaxOffset: 500ms\nlogDir: " + dir.resolve("logs") + "\nregistryDir: " + dir.resolve("ports") + "\n");
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "sink-server", "1")) {
            int port = server.port();
            assertEquals("SAME", python(port, "forged"), "the payload of a refused message must still be delivered exactly");
            assertEquals("SAME", python(port, "midframe"));
            String err = server.awaitLine("CONN-ERROR");
            assertTrue(err.contains("delivered=10 ") && err.contains("closed in the middle of a framed message")
                    && err.contains("990 payload bytes never arrived"), err);
            server.stop();
            assertTrue(server.stderrText().contains("refused remote HLC"), server.stderrText());
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        Map<String, String> refused = EventLogs.kind(events, "recv").stream().filter(e -> "true".equals(e.get("refused"))).findFirst().orElse(null);
        assertNotNull(refused, "the forged receive is logged with refused:true: " + events);
        assertEquals("0000000000abcdef", refused.get("msg"));
        long forged = 4102444800L << 32;
        for (Map<String, String> e : events) {
            assertTrue(Long.compareUnsigned(EventLogs.hlc(e), forged) < 0, "the forged time leaked into the clock: " + e);
        }
    }
}
