package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The daemon as a process: `probe --config` attaches, SIGTERM detaches and leaves only the clock pinned. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SigtermTest {
    @Test
    void sigtermDetachesEverythingAndKeepsTheClock() throws Exception {
        ScratchExecutor x = ScratchExecutor.create('t');
        String id = x.id();
        Path cgroup = x.cgroup();
        Path dir = x.dir();
        Path pins = x.pins();
        Process daemon = null;
        try {
            Path yml = dir.resolve("probe.yml");
            Files.writeString(yml, "executor: " + id + "\nevent_log: " + dir.resolve("events.jsonl") + "\nclock_socket: "
                    + dir.resolve("clock.sock") + "\ntargets:\n  cgroups: [" + cgroup + "]\n");
            Path err = dir.resolve("stderr");
            daemon = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    ProbeMain.class.getName(), "probe", "--config", yml.toString())
                    .redirectErrorStream(true).redirectOutput(err.toFile()).start();
            for (int i = 0; i < 200 && !Files.readString(err).contains("running"); i++) Thread.sleep(50);
            assertTrue(Files.readString(err).contains("running"), Files.readString(err));
            assertTrue(NetLab.sh("bpftool cgroup show " + cgroup).contains("sock_ops"), "sock_ops attached to the cgroup");
            assertTrue(Files.exists(dir.resolve("clock.sock")));

            daemon.destroy(); // SIGTERM
            assertTrue(daemon.waitFor(20, TimeUnit.SECONDS), "the daemon stops on SIGTERM");
            assertEquals(143, daemon.exitValue(), "exit status of SIGTERM after the shutdown hook");
            assertTrue(Files.readString(err).contains("detached"), Files.readString(err));
            assertTrue(!NetLab.sh("bpftool cgroup show " + cgroup).contains("sock_ops"), "nothing left attached");
            try (var s = Files.list(pins)) {
                assertEquals(List.of("clock"), s.map(p -> p.getFileName().toString()).toList(), "only the clock stays pinned");
            }
            List<String> lines = Files.readAllLines(dir.resolve("events.jsonl"));
            assertTrue(lines.get(0).contains("\"kind\":\"start\"") && lines.get(lines.size() - 1).contains("\"kind\":\"stop\""), String.join("\n", lines));
            assertTrue(!Files.exists(dir.resolve("clock.sock")), "the clock socket is removed");
        } finally {
            if (daemon != null) daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            x.close();
        }
    }
}
