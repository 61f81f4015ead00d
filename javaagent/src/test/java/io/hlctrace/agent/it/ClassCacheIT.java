package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The class cache: hooked JDK classes built once, taken from the cache by later JVMs, a damaged one dropped. */
@Timeout(120)
class ClassCacheIT {
    private static final List<String> HOOKED = List.of("java.net.Socket-", "java.net.ServerSocket-", "java.net.Socket$SocketInputStream-",
            "java.net.Socket$SocketOutputStream-", "sun.nio.ch.SocketChannelImpl-", "sun.nio.ch.ServerSocketChannelImpl-",
            "sun.nio.ch.DatagramChannelImpl-", "sun.nio.ch.FileChannelImpl-", "sun.nio.ch.UnixAsynchronousServerSocketChannelImpl-");

    @TempDir
    Path dir;

    private Path config() throws Exception {
        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs") + "\nclassCache: "
                + dir.resolve("cache") + "\nregistryDir: " + dir.resolve("ports") + "\n");
        return cfg;
    }

    /** Name to last-modified time of every file in the (single) per-jar cache directory. */
    private Map<String, Long> cached() throws Exception {
        Map<String, Long> files = new TreeMap<>();
        try (Stream<Path> jars = Files.list(dir.resolve("cache"))) {
            for (Path jarDir : jars.toList()) {
                try (Stream<Path> s = Files.list(jarDir)) {
                    for (Path f : s.toList()) files.put(f.getFileName().toString(), Files.getLastModifiedTime(f).toMillis());
                }
            }
        }
        return files;
    }

    private static void runUncovered(Path dir, Path cfg) throws Exception {
        try (ChildJvm app = ChildJvm.withAgent(dir, cfg, "uncovered")) {
            assertEquals("DONE", app.nextLine());
            assertEquals(0, app.waitFor(), app.stderrText());
            String err = app.stderrText();
            // the warning comes from advice inside a class transformed at its first load
            assertEquals(1, err.lines().filter(l -> l.contains("UnixAsynchronousServerSocketChannelImpl is used in this JVM")).count(), err);
        }
    }

    @Test
    void hookedClassesAreBuiltOnceAndLaterJvmsFrameWithTheCachedOnes() throws Exception {
        Path cfg = config();
        runUncovered(dir, cfg);
        Map<String, Long> first = cached();
        for (String type : HOOKED) {
            assertTrue(first.keySet().stream().anyMatch(n -> n.startsWith(type) && n.endsWith(".class")), type + " not cached: " + first.keySet());
        }
        assertFalse(first.keySet().stream().anyMatch(n -> n.endsWith(".part")), "temporary file left: " + first.keySet());

        try (ChildJvm sink = ChildJvm.withAgent(dir, cfg, "sink-server", "3")) {
            int port = sink.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "send-client", Integer.toString(port), "2", "30000", "4")) {
                assertEquals(0, client.waitFor(), client.stderrText());
                assertEquals("OK 2", client.nextLine());
            }
            sink.stop();
        }
        assertEquals(first, cached(), "the later JVMs took the classes from the cache, so nothing was written again");
        List<Map<String, String>> sends = EventLogs.kind(EventLogs.read(dir.resolve("logs")), "send");
        assertTrue(sends.stream().filter(s -> s.get("remote") != null && !s.get("remote").endsWith(":0")).anyMatch(s -> s.containsKey("msg")),
                "the cached Socket hooks frame messages between two agents");
    }

    @Test
    void aDamagedCachedClassIsDroppedAndTheHooksAreBuiltAgain() throws Exception {
        Path cfg = config();
        runUncovered(dir, cfg);
        Path socket;
        try (Stream<Path> s = Files.walk(dir.resolve("cache"))) {
            socket = s.filter(p -> p.getFileName().toString().startsWith("java.net.Socket-")).findFirst().orElseThrow();
        }
        byte[] whole = Files.readAllBytes(socket);
        Files.write(socket, java.util.Arrays.copyOf(whole, whole.length / 2));
        try (ChildJvm app = ChildJvm.withAgent(dir, cfg, "uncovered")) {
            assertEquals("DONE", app.nextLine());
            assertEquals(0, app.waitFor(), app.stderrText());
            String err = app.stderrText();
            assertTrue(err.contains("refused classes from the class cache"), err);
            assertFalse(err.contains("UNINSTRUMENTED"), err);
        }
        assertFalse(Files.exists(socket), "the damaged cache file is removed");
    }
}
