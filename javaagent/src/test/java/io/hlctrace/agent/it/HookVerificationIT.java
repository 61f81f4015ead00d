package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The woven JDK classes pass the JVM's bytecode verifier. The JVM does not verify java.base by
 * default, so a wrong stack map in a woven method would only show as a crash when it runs; here
 * the child JVM verifies every boot class, the hooked ones at their retransformation (all their
 * methods, whether the test runs them or not), and an asynchronous channel class hooked at its
 * first load. Without the class cache, so the weaver itself produced them.
 */
@Timeout(120)
class HookVerificationIT {
    @TempDir
    Path dir;

    @Test
    void everyWovenClassPassesTheVerifier() throws Exception {
        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs") + "\nclassCache: off\nregistryDir: "
                + dir.resolve("ports") + "\n");
        List<String> verifyBootClasses = List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:+BytecodeVerificationLocal", "-Xlog:verification=info:file="
                + dir.resolve("verification.log"));
        try (ChildJvm app = ChildJvm.withAgent(dir, cfg, verifyBootClasses, "uncovered")) {
            assertEquals("DONE", app.nextLine(), app.stderrText());
            assertEquals(0, app.waitFor(), app.stderrText());
            String err = app.stderrText();
            List<String> warnings = err.lines().filter(l -> l.contains("WARNING") || l.contains("Error") || l.contains("could not"))
                    .filter(l -> !l.contains("is used in this JVM")).toList();
            assertEquals(List.of(), warnings, err);
            assertTrue(err.contains("UnixAsynchronousServerSocketChannelImpl is used in this JVM"), err);
        }
        String log = Files.readString(dir.resolve("verification.log"));
        // loaded, then retransformed: verified twice, the second time as woven
        for (String type : List.of("java.net.Socket", "java.net.ServerSocket", "java.net.Socket$SocketInputStream", "java.net.Socket$SocketOutputStream",
                "sun.nio.ch.SocketChannelImpl", "sun.nio.ch.ServerSocketChannelImpl", "sun.nio.ch.DatagramChannelImpl", "sun.nio.ch.FileChannelImpl")) {
            assertEquals(2, verified(log, type), type + " verified as loaded and as woven");
        }
        // woven at its first load
        assertEquals(1, verified(log, "sun.nio.ch.UnixAsynchronousServerSocketChannelImpl"));
    }

    private static long verified(String log, String type) {
        return log.lines().filter(l -> l.endsWith("Verifying class " + type + " with new format")).count();
    }
}
