package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.hlctrace.sync.SyncConfig;

/** probe.yml's sync: section runs clock-sync (io.hlctrace.sync) on the BPF clock record. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClockSyncWiringTest {
    @Test
    void syncSectionDefaultsToTheExecutorAndItsRunDirectory() {
        ProbeConfig c = ProbeConfig.parse(new StringReader("executor: web-1\ntargets: {pids: [1]}\nsync:\n  bind: 127.0.0.1:7401\n  peers: [\"db=127.0.0.1:7402\"]\n"), "probe.yml");
        SyncConfig s = ProbeDaemon.syncConfig(c);
        assertEquals("web-1", s.executorId());
        assertEquals(Path.of("/run/hlctrace/web-1/sync-status.json"), s.statusFile().orElseThrow());
        assertEquals(1, s.peers().size());
    }

    @Test
    void badSyncSectionIsAProbeError() {
        ProbeConfig c = ProbeConfig.parse(new StringReader("executor: a\ntargets: {pids: [1]}\nsync:\n  peerz: []\n"), "probe.yml");
        ProbeException e = org.junit.jupiter.api.Assertions.assertThrows(ProbeException.class, () -> ProbeDaemon.syncConfig(c));
        assertTrue(e.getMessage().contains("peerz"), e.getMessage());
    }

    @Test
    void daemonRunsClockSyncOnTheBpfClockRecord() throws Exception {
        try (ScratchExecutor x = ScratchExecutor.create('y')) {
            Path status = x.dir().resolve("sync-status.json");
            ProbeConfig c = ProbeConfig.parse(new StringReader("executor: " + x.id() + "\nevent_log: " + x.dir().resolve("e.jsonl") + "\nclock_socket: off\n"
                    + "targets:\n  cgroups: [" + x.cgroup() + "]\nsync:\n  bind: 127.0.0.1:0\n  heartbeat: 50ms\n  monitor-interval: 200ms\n  status-file: " + status + "\n"), "probe.yml");
            try (ProbeDaemon d = ProbeDaemon.start(c)) {
                for (int i = 0; i < 100 && !Files.exists(status); i++) Thread.sleep(100);
                assertTrue(Files.exists(status), "clock-sync wrote its status for the executor");
                assertTrue(Files.readString(status).contains(x.id()), Files.readString(status));
            }
        }
    }
}
