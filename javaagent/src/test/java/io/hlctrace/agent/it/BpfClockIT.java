package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent on the kernel probe's clock: a real pinned BPF array map (BPF_F_MMAPABLE, one 64-byte
 * record) created with bpftool, opened by the agent's JNI library, directly and over a Unix socket.
 */
@Timeout(120)
class BpfClockIT {
    @TempDir
    Path dir;
    Path pinDir;
    Path pinned;

    private static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) { p.destroyForcibly(); return -1; }
        return p.exitValue();
    }

    @BeforeEach
    void createMap() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "creating and opening a BPF map needs root (CAP_BPF)");
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys/fs/bpf")), "bpffs is not mounted at /sys/fs/bpf");
        Assumptions.assumeTrue(run("bpftool", "version") == 0, "bpftool is not installed (scripts/setup.sh installs it)");
        pinDir = Path.of("/sys/fs/bpf/hta-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Files.createDirectories(pinDir);
        pinned = pinDir.resolve("clock");
        // 1024 = BPF_F_MMAPABLE
        assertEquals(0, run("bpftool", "map", "create", pinned.toString(), "type", "array", "key", "4", "value", "64", "entries", "1",
                "name", "hta_clock", "flags", "1024"), "bpftool map create failed");
        // offset_ns (bytes 8..15, little-endian) = -2 h: every stamp of the executor moves with it
        long offset = -Duration.ofHours(2).toNanos();
        StringBuilder value = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            long b = i >= 8 && i < 16 ? (offset >>> (8 * (i - 8))) & 0xFF : 0;
            value.append(String.format("%02x ", b));
        }
        List<String> cmd = new java.util.ArrayList<>(List.of("bpftool", "map", "update", "pinned", pinned.toString(), "key", "hex", "00", "00", "00", "00", "value", "hex"));
        cmd.addAll(List.of(value.toString().trim().split(" ")));
        assertEquals(0, run(cmd.toArray(new String[0])), "bpftool map update failed");
    }

    @AfterEach
    void removeMap() throws Exception {
        if (pinDir != null) {
            Files.deleteIfExists(pinned);
            Files.deleteIfExists(pinDir);
        }
    }

    private long mapWord() throws Exception {
        Process p = new ProcessBuilder("bpftool", "map", "dump", "pinned", pinned.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        p.waitFor(30, TimeUnit.SECONDS);
        String[] lines = out.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith("value:")) {
                String[] hex = lines[i + 1].trim().split("\\s+");
                long w = 0;
                for (int b = 7; b >= 0; b--) w = (w << 8) | Integer.parseInt(hex[b], 16);
                return w;
            }
        }
        throw new AssertionError("no value in bpftool output: " + out);
    }

    private void runOnClock(String clock) throws Exception {
        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: bpfexec\nclock: " + clock + "\nlogDir: " + dir.resolve("logs") + "\nregistryDir: " + dir.resolve("ports") + "\n");
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "sink-server", "1")) {
            int port = server.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "send-client", Integer.toString(port), "2", "20000", "4")) {
                assertEquals(0, client.waitFor(), client.stderrText());
            }
            server.stop();
            assertTrue(server.stderrText().contains("kernel probe clock map"), server.stderrText());
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        assertFalse(EventLogs.kind(events, "recv").isEmpty());
        long max = 0;
        long now = System.currentTimeMillis() * 1_000_000L;
        for (Map<String, String> e : events) {
            if (Long.compareUnsigned(EventLogs.hlc(e), max) > 0) max = EventLogs.hlc(e);
            long behind = now - Long.parseLong(e.get("pt"));
            assertTrue(behind > Duration.ofMinutes(119).toNanos() && behind < Duration.ofMinutes(125).toNanos(),
                    "pt must follow the record's offset of -2 h: " + e);
        }
        assertEquals(Long.toHexString(max), Long.toHexString(mapWord()), "the map's HLC word is the last stamp the agents handed out");
    }

    @Test
    void agentsStampWithThePinnedClockMap() throws Exception {
        runOnClock("bpf:" + pinned);
    }

    private static final String PY_FD_SERVER = String.join("\n",
            "import ctypes, os, socket, struct, sys",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "path = ctypes.create_string_buffer(sys.argv[1].encode())",
            "attr = ctypes.create_string_buffer(struct.pack('=QII', ctypes.addressof(path), 0, 0) + bytes(104))",
            "fd = libc.syscall(321, 7, attr, 120)  # bpf(BPF_OBJ_GET)",
            "if fd < 0: sys.exit('BPF_OBJ_GET failed: ' + os.strerror(ctypes.get_errno()))",
            "ls = socket.socket(socket.AF_UNIX); ls.bind(sys.argv[2]); ls.listen(4); ls.settimeout(60)",
            "print('READY', flush=True)",
            "for _ in range(int(sys.argv[3])):",
            "    c, _ = ls.accept(); socket.send_fds(c, [b'clock'], [fd]); c.close()");

    @Test
    void agentsStampWithTheClockMapReceivedOverAUnixSocket() throws Exception {
        Path sock = dir.resolve("clock.sock");
        Process py = new ProcessBuilder("python3", "-c", PY_FD_SERVER, pinned.toString(), sock.toString(), "2")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String ready = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertEquals("READY", ready);
            runOnClock("unix:" + sock);
        } finally {
            py.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
