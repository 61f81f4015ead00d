package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SSLSocket to SSLServerSocket, both instrumented: the TLS records travel inside the frames. */
@Timeout(120)
class TlsIT {
    @TempDir
    Path dir;

    @Test
    void tlsRecordsTravelInsideFramesAndBothSidesAreFramed() throws Exception {
        Path keystore = dir.resolve("ks.p12");
        String keytool = Path.of(ChildJvm.JAVA).resolveSibling("keytool").toString();
        Process kt = new ProcessBuilder(keytool, "-genkeypair", "-alias", "s", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", "secret", "-keypass", "secret", "-ext", "SAN=ip:127.0.0.1").redirectErrorStream(true).start();
        String ktOut = new String(kt.getInputStream().readAllBytes());
        assertTrue(kt.waitFor(60, TimeUnit.SECONDS) && kt.exitValue() == 0, "keytool failed: " + ktOut);

        Path cfg = dir.resolve("agent.yml");
        Files.writeString(cfg, "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs") + "\n");
        try (ChildJvm server = ChildJvm.withAgent(dir, cfg, "tls-server", keystore.toString())) {
            int port = server.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, cfg, "tls-client", Integer.toString(port), keystore.toString())) {
                assertEquals(0, client.waitFor(), client.stderrText() + "\nserver: " + server.stderrText());
                assertEquals("OK 1", client.nextLine());
            }
            server.stop();
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        EventLogs.assertFramedReceivesFollowTheirSends(events, "both directions of the TLS connection are framed");
        assertEquals(1, EventLogs.kind(events, "accept").size(), "SSLServerSocket.accept is seen as an accept");
    }
}
