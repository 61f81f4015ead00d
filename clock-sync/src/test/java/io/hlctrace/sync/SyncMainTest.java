package io.hlctrace.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.ExecutorClockState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SyncMain from a YAML file, alone (its own only time source), on loopback: no root needed. */
class SyncMainTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void runsFromYamlWritesStatusAndEventsAndStops() throws Exception {
        Path yml = dir.resolve("sync.yml");
        Files.writeString(yml, """
                clock: %s
                sync:
                  executor: solo
                  bind: 127.0.0.1:0
                  heartbeat: 20ms
                  monitor-interval: 100ms
                  max-offset: 50ms
                  status-file: %s
                """.formatted(dir.resolve("clock"), dir.resolve("status.json")));
        int rc = SyncMain.run(new String[] {"--config", yml.toString(), "--skew", "-1.5s", "--events", dir.resolve("ev.jsonl").toString(),
                "--event-every", "10ms", "--run-for", "600ms"});
        assertEquals(0, rc);
        SyncStatus s = SyncStatus.fromJson(Files.readString(dir.resolve("status.json")));
        assertEquals("solo", s.executor());
        assertEquals(SyncStatus.Health.HEALTHY, s.health(), "a lone executor is its own majority");
        try (ExecutorClockFile f = ExecutorClockFile.open(dir.resolve("clock"))) {
            assertEquals(-1_500_000_000L, f.state().get(ExecutorClockState.OFFSET_NS), "no peer, nothing to correct");
            assertEquals(50_000_000L, f.state().maxOffsetNanos(), "SyncMain arms the guard with the max offset");
        }
        List<String> events = Files.readAllLines(dir.resolve("ev.jsonl"));
        ClockSyncNetnsTest.assertContiguous(events);
        assertTrue(events.size() > 10 && events.get(events.size() - 1).contains("\"kind\":\"stop\""), events.toString());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = StatusCommand.run(new String[] {"--status", dir.resolve("status.json").toString(), "--clock", dir.resolve("clock").toString()},
                new PrintStream(out, true), System.err);
        assertEquals(0, status);
        assertTrue(out.toString().contains("executor solo: HEALTHY") && out.toString().contains("now: ["), out.toString());
    }

    @Test
    void badArgumentsSayWhatIsWrong() {
        var e = assertThrows(IllegalArgumentException.class, () -> SyncMain.run(new String[] {"--id", "a", "--heartbeat", "fast"}));
        assertTrue(e.getMessage().contains("sync.heartbeat: ") && e.getMessage().contains("\"fast\""), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> SyncMain.run(new String[] {"--frobnicate"}));
        assertTrue(e2.getMessage().contains("unknown argument \"--frobnicate\""), e2.getMessage());
    }
}
