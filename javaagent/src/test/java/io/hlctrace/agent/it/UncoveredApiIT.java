package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An API the agent does not cover is reported once, however often it is used. */
@Timeout(60)
class UncoveredApiIT {
    @TempDir
    Path dir;

    @Test
    void asynchronousChannelsAreReportedWithOneWarning() throws Exception {
        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: exec1\nclock: local\nlogDir: " + dir.resolve("logs") + "\nregistry: false\n");
        try (ChildJvm app = ChildJvm.withAgent(dir, cfg, "uncovered")) {
            assertEquals("DONE", app.nextLine());
            assertEquals(0, app.waitFor());
            String err = app.stderrText();
            long warnings = err.lines().filter(l -> l.contains("UnixAsynchronousServerSocketChannelImpl is used in this JVM")).count();
            assertEquals(1, warnings, err);
        }
    }
}
