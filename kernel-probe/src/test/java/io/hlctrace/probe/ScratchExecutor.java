package io.hlctrace.probe;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A throwaway executor for one test: a unique id, its own cgroup v2 directory and a scratch
 * directory. Skips the test, saying why, where the probe cannot run. {@link #close()} removes the
 * cgroup, the executor's pins and run directory, and the scratch directory, also after a failure.
 */
record ScratchExecutor(String id, Path cgroup, Path dir) implements AutoCloseable {

    static ScratchExecutor create(char suffix) throws IOException {
        String why = BpfProbe.cannotRunReason();
        assumeTrue(why == null, "kernel probe tests skipped: " + why);
        String id = "htq" + ProcessHandle.current().pid() + suffix;
        Path cgroup = ProbeConfig.CGROUP2_ROOT.resolve(id);
        Path dir = Files.createTempDirectory(id + "-");
        Files.createDirectories(cgroup);
        return new ScratchExecutor(id, cgroup, dir);
    }

    Path pins() { return ProbeConfig.DEFAULT_PIN_ROOT.resolve(id); }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(pins().resolve("clock"));
        Files.deleteIfExists(pins());
        Files.deleteIfExists(Path.of("/run/hlctrace", id, "probe.lock"));
        Files.deleteIfExists(Path.of("/run/hlctrace", id));
        Files.deleteIfExists(cgroup);
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
