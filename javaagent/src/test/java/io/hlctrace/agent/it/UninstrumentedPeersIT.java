package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** curl and python3 (no agent) against instrumented JVMs: byte-identical, never a frame. */
@Timeout(120)
class UninstrumentedPeersIT {
    @TempDir
    Path dir;
    Path cfg;

    @BeforeEach
    void config() throws Exception {
        cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs") + "\n");
    }

    /** Runs a program, returns its stdout; fails on a non-zero exit. */
    private String run(byte[] stdin, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            p.getOutputStream().write(stdin);
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
            assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
            return new String(out, StandardCharsets.ISO_8859_1);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void curlGetsTheExactBodyFromAnInstrumentedServer() throws Exception {
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "http-server")) {
            int port = server.port();
            for (String path : List.of("/a", "/bb", "/ccc")) {
                Path out = dir.resolve("body" + path.length());
                run(new byte[0], "curl", "-sS", "--max-time", "20", "-o", out.toString(), "http://127.0.0.1:" + port + path);
                assertArrayEquals(Peer.httpBody(path), Files.readAllBytes(out), "body of " + path);
            }
            server.stop();
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        List<Map<String, String>> sends = EventLogs.kind(events, "send");
        assertFalse(sends.isEmpty());
        for (Map<String, String> s : sends) {
            assertNull(s.get("msg"), "a frame was sent to curl: " + s);
            assertTrue(s.containsKey("off"), "plain sends carry stream offsets: " + s);
        }
        assertFalse(EventLogs.kind(events, "recv").isEmpty(), "plain receives are still observed");
    }

    private static final String PY_SINK_CLIENT = String.join("\n",
            "import hashlib, socket, sys",
            "port, data = int(sys.argv[1]), sys.stdin.buffer.read()",
            "s = socket.create_connection(('127.0.0.1', port), timeout=30)",
            "i = 0",
            "while i < len(data):",
            "    n = min(len(data) - i, 1 + (i * 7919) % 3000)",
            "    s.sendall(data[i:i+n]); i += n",
            "s.shutdown(socket.SHUT_WR)",
            "answer = b''",
            "while True:",
            "    b = s.recv(4096)",
            "    if not b: break",
            "    answer += b",
            "print(answer.decode().strip())");

    @Test
    void python3ClientIsServedPlainIncludingBytesThatStartLikeTheSignature() throws Exception {
        byte[] random = new byte[200_000];
        new java.util.Random(11).nextBytes(random);
        // the header's fixed 8-byte signature, then something that is not a valid header
        byte[] lookalike = new byte[5000];
        new java.util.Random(12).nextBytes(lookalike);
        System.arraycopy(new byte[] {(byte) 0xF3, 'H', 'L', 'C', 1, 0, 0, 28}, 0, lookalike, 0, 8);
        lookalike[27] = 0; lookalike[26] = 0; lookalike[25] = 0; lookalike[24] = 0; // payload length 0: invalid
        byte[] prefixOnly = {(byte) 0xF3, 'H', 'L', 'X', 'Y'};
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "sink-server", "3")) {
            int port = server.port();
            for (byte[] data : List.of(random, lookalike, prefixOnly)) {
                String answer = run(data, "python3", "-c", PY_SINK_CLIENT, Integer.toString(port)).trim();
                assertEquals(sha256(data) + " " + data.length, answer);
            }
            server.stop();
        }
        for (Map<String, String> r : EventLogs.kind(EventLogs.read(dir.resolve("logs")), "recv")) {
            assertNull(r.get("msg"), "python3 sent no frames: " + r);
        }
    }

    private static final String PY_SINK_SERVER = String.join("\n",
            "import hashlib, socket, sys",
            "ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(16)",
            "print('PORT', ls.getsockname()[1], flush=True)",
            "ls.settimeout(60)",
            "for _ in range(int(sys.argv[1])):",
            "    c, _ = ls.accept(); h = hashlib.sha256(); n = 0",
            "    while True:",
            "        b = c.recv(65536)",
            "        if not b: break",
            "        h.update(b); n += len(b)",
            "    c.sendall(('%s %d\\n' % (h.hexdigest(), n)).encode()); c.close()");

    @Test
    void instrumentedClientTalksPlainToAPython3Server() throws Exception {
        Process py = new ProcessBuilder("python3", "-c", PY_SINK_SERVER, "4").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(py.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            int port = Integer.parseInt(line.trim().split(" ")[1]);
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "send-client", Integer.toString(port), "4", "100000", "8")) {
                // the client compares python3's digest of what it received with its own: equal means no frame bytes
                assertEquals(0, client.waitFor(), client.stderrText());
            }
            assertTrue(py.waitFor(30, TimeUnit.SECONDS));
        } finally {
            py.destroyForcibly();
        }
        List<Map<String, String>> sends = EventLogs.kind(EventLogs.read(dir.resolve("logs")), "send");
        assertFalse(sends.isEmpty());
        for (Map<String, String> s : sends) assertNull(s.get("msg"), "a frame was sent to python3: " + s);
    }

    static String sha256(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }
}
