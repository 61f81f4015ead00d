package io.hlctrace.timeline;

import io.hlctrace.hlc.HlcTimestamp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Ten million events merge and verify in a child JVM whose heap (256 MiB) is a tenth of the input. */
class BoundedMemoryTest {
    static final long EVENTS = 10_000_000L;

    @TempDir Path dir;

    @Test
    void tenMillionEventsMergeAndVerifyInBoundedMemory() throws Exception {
        List<Path> files = SyntheticLogs.write(dir, 4, 4, EVENTS, 2024);
        long bytes = 0;
        for (Path f : files) bytes += Files.size(f);
        long heap = 256L << 20;
        assertTrue(bytes > 8 * heap, "the input (" + bytes + " bytes) is far larger than the heap");

        String cp = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()) + File.pathSeparator
                + Path.of(HlcTimestamp.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-cp", cp, Main.class.getName(), "verify"));
        files.forEach(f -> cmd.add(f.toString()));
        Path out = dir.resolve("verify.out"), err = dir.resolve("verify.err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            assertTrue(p.waitFor(180, TimeUnit.SECONDS), "verify of 10M events finished within 180 s");
            String stdout = Files.readString(out), stderr = Files.readString(err);
            assertEquals(0, p.exitValue(), stdout + stderr);
            assertFalse(stderr.contains("OutOfMemoryError"), stderr);
            assertTrue(stdout.contains("hlc order: " + EVENTS + " events"), stdout);
            assertTrue(stdout.contains("consistent: every happened-before edge goes forward"), stdout);
            long expectedEdges = EVENTS - files.size(); // process order, plus the messages below
            assertTrue(stdout.matches("(?s).*hlc order: \\d+ events, (\\d+) happened-before edges checked.*"), stdout);
            long edges = Long.parseLong(stdout.replaceAll("(?s).*hlc order: \\d+ events, (\\d+) happened-before edges checked.*", "$1"));
            assertTrue(edges > expectedEdges + EVENTS / 4, "process edges plus millions of message edges: " + edges);
        } finally {
            p.destroyForcibly();
            for (Path f : files) Files.deleteIfExists(f);
        }
    }
}
