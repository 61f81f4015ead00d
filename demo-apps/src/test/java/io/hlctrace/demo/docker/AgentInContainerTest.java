package io.hlctrace.demo.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * A JVM container with the real agent jar (mounted read-only, enabled by JAVA_TOOL_OPTIONS) talks
 * to a python3 container over one long-lived TCP connection on a user-defined network: every
 * message shows in the agent's event log (a mounted directory) with the right size and byte
 * offsets, and the python side receives and answers every byte correctly.
 */
class AgentInContainerTest {
    static final int MESSAGES = 400;
    static final int PORT = 9000;
    /** SHA-256 in hex plus "\n": the size of every answer. */
    static final int REPLY_LENGTH = 65;

    /** The size of LineClient's message i (src/test/resources/.../LineClient.java). */
    static int messageLength(int i) {
        return ("m" + i + ":").length() + (i * 7919) % 1500 + 1 + 1;
    }

    @Test
    @Timeout(240)
    void everyMessageOfAJvmContainerToAPythonContainerIsLoggedAndByteCorrect(@TempDir Path tmp) throws Exception {
        String why = HtkDockerEngine.start();
        assumeTrue(why == null, why);
        Path agentJar = HtkDockerEngine.projectRoot().resolve("javaagent/target/hlctrace-agent.jar");
        assumeTrue(Files.isRegularFile(agentJar), "container test skipped: the agent jar " + agentJar
                + " is not built (mvn -pl javaagent package; the reactor build makes it before demo-apps)");

        String id = UUID.randomUUID().toString().substring(0, 8);
        Path app = Files.createDirectories(tmp.resolve("app"));
        copyResource("LineClient.java", app);
        copyResource("line_server.py", app);
        Path logs = Files.createDirectories(tmp.resolve("logs"));
        Path config = tmp.resolve("agent.yml");
        Files.writeString(config, "node: htk-exec-a\nprocess: line-client\nlogDir: /hlctrace/logs\n");

        try (Network network = Network.builder().createNetworkCmdModifier(c -> c.withName("htk-net-" + id)).build();
             GenericContainer<?> server = new GenericContainer<>(HtkDockerEngine.PYTHON_IMAGE)
                     .withImagePullPolicy(HtkDockerEngine.NEVER_PULL)
                     .withCreateContainerCmdModifier(c -> c.withName("htk-py-" + id))
                     .withNetwork(network).withNetworkAliases("pyserver")
                     .withFileSystemBind(app.toString(), "/app", BindMode.READ_ONLY)
                     .withCommand("python3", "-u", "/app/line_server.py", String.valueOf(PORT))
                     .waitingFor(Wait.forLogMessage(".*listening on.*\\n", 1).withStartupTimeout(Duration.ofSeconds(30)));
             GenericContainer<?> client = new GenericContainer<>(HtkDockerEngine.JVM_IMAGE)
                     .withImagePullPolicy(HtkDockerEngine.NEVER_PULL)
                     .withCreateContainerCmdModifier(c -> c.withName("htk-jvm-" + id))
                     .withNetwork(network)
                     .withFileSystemBind(agentJar.toString(), "/hlctrace/agent.jar", BindMode.READ_ONLY)
                     .withFileSystemBind(config.toString(), "/hlctrace/agent.yml", BindMode.READ_ONLY)
                     .withFileSystemBind(logs.toString(), "/hlctrace/logs", BindMode.READ_WRITE)
                     .withFileSystemBind(app.toString(), "/app", BindMode.READ_ONLY)
                     .withEnv("JAVA_TOOL_OPTIONS", "-javaagent:/hlctrace/agent.jar=/hlctrace/agent.yml")
                     .withCommand("java", "/app/LineClient.java", "pyserver", String.valueOf(PORT), String.valueOf(MESSAGES))
                     .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(120)))) {
            server.start();
            client.start();

            long sent = 0;
            for (int i = 0; i < MESSAGES; i++) sent += messageLength(i);
            long received = (long) MESSAGES * REPLY_LENGTH;
            String clientOut = client.getLogs();
            assertTrue(clientOut.contains("client-ok messages=" + MESSAGES + " sent=" + sent + " received=" + received),
                    "the JVM client checked every answer; its output:\n" + clientOut);
            assertTrue(clientOut.contains("hlctrace agent"), "the agent started in the JVM container; its output:\n" + clientOut);

            String served = waitForLog(server, "served ", Duration.ofSeconds(20));
            assertTrue(served.contains("served lines=" + MESSAGES + " in=" + sent + " out=" + received),
                    "the python server received every byte of every message; its output:\n" + served);

            List<EventLogEvents> events = EventLogEvents.readAll(logs);
            assertFalse(events.isEmpty(), "the agent wrote an event log into the mounted directory " + logs);
            List<EventLogEvents> sends = events.stream().filter(e -> e.kind().equals("send") && e.remotePort(PORT)).toList();
            List<EventLogEvents> recvs = events.stream().filter(e -> e.kind().equals("recv") && e.remotePort(PORT)).toList();
            assertEquals(MESSAGES, sends.size(), "one send event per message (each message is one write)");
            long off = 0;
            for (int i = 0; i < MESSAGES; i++) {
                EventLogEvents s = sends.get(i);
                assertEquals(messageLength(i), s.bytes(), "size of message " + i + " at " + s.file() + ":" + s.line());
                assertEquals(off, s.offStart(), "message " + i + " starts where message " + (i - 1) + " ended");
                assertEquals(off + messageLength(i), s.offEnd(), "end offset of message " + i);
                off += messageLength(i);
            }
            long in = 0;
            for (EventLogEvents r : recvs) {
                assertEquals(in, r.offStart(), "answers are logged without gaps or overlaps at " + r.file() + ":" + r.line());
                assertEquals(r.offEnd() - r.offStart(), r.bytes(), "bytes match the offsets at " + r.file() + ":" + r.line());
                in = r.offEnd();
            }
            assertEquals(received, in, "every byte of every answer is in a recv event");
            assertTrue(events.stream().anyMatch(e -> e.kind().equals("connect") && e.remotePort(PORT)), "the connection is logged");
            // one process: its events are in seq order with strictly increasing HLC words
            for (int i = 1; i < events.size(); i++) {
                EventLogEvents a = events.get(i - 1), b = events.get(i);
                if (!a.proc().equals(b.proc())) continue;
                assertEquals(a.seq() + 1, b.seq(), "seq without gaps at " + b.file() + ":" + b.line());
                assertTrue(Long.compareUnsigned(a.hlcWord(), b.hlcWord()) < 0, "HLC strictly increasing at " + b.file() + ":" + b.line());
            }
            assertTrue(events.stream().allMatch(e -> e.node().equals("htk-exec-a")), "events carry the executor id of the config");
        }
    }

    static void copyResource(String name, Path dir) throws IOException {
        try (InputStream in = AgentInContainerTest.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("test resource " + name + " is missing next to " + AgentInContainerTest.class.getName());
            Files.copy(in, dir.resolve(name));
        }
    }

    static String waitForLog(GenericContainer<?> c, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String logs = c.getLogs();
        while (!logs.contains(text) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            logs = c.getLogs();
        }
        return logs;
    }

}
