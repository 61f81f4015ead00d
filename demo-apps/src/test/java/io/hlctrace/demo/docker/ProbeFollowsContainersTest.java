package io.hlctrace.demo.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;

import com.github.dockerjava.api.DockerClient;

/**
 * Two executors, each a user-defined network with its own kernel probe daemon (a child process
 * running the real hlctrace-probe.jar) that follows its containers by name through the Docker API;
 * executor B's physical clock is two hours behind. A JVM container (executor A) and a python3
 * container (executor B) exchange messages on long-lived connections: every message is stamped
 * once by each side, every send pairs with its receive and comes first in HLC order. The python3
 * container stops and starts again between two connections: its probe follows it, nothing is
 * counted twice, and executor B's clock never goes back.
 */
class ProbeFollowsContainersTest {
    static final int PORT = 9000;
    static final int MESSAGES = 300;
    static final Duration SKEW_B = Duration.ofHours(-2);
    /** Above the skew: a guard tighter than the known skew would refuse every timestamp from A. */
    static final Duration MAX_OFFSET = Duration.ofHours(3);

    @Test
    @Timeout(240)
    void twoExecutorsWithSkewedClocksFollowAContainerThroughARestart(@TempDir Path tmp) throws Exception {
        String why = HtkDockerEngine.start();
        assumeTrue(why == null, why);
        Path root = HtkDockerEngine.projectRoot();
        Path probeJar = root.resolve("kernel-probe/target/hlctrace-probe.jar");
        assumeTrue(Files.isRegularFile(probeJar), "container probe test skipped: " + probeJar
                + " is not built (mvn -pl kernel-probe package; the reactor build makes it before demo-apps)");
        assumeTrue(Files.isDirectory(Path.of("/sys/fs/bpf")) && Files.exists(Path.of("/sys/kernel/btf/vmlinux")),
                "container probe test skipped: the kernel probe needs bpffs at /sys/fs/bpf and BTF at /sys/kernel/btf/vmlinux");

        String id = UUID.randomUUID().toString().substring(0, 8);
        String exA = "htk-xa-" + id, exB = "htk-xb-" + id;
        String jvmName = "htk-jvm-" + id, pyName = "htk-py-" + id;
        Path app = Files.createDirectories(tmp.resolve("app"));
        AgentInContainerTest.copyResource("LineClient.java", app);
        AgentInContainerTest.copyResource("line_server.py", app);
        Path gate = Files.createDirectories(tmp.resolve("gate"));
        Path logA = tmp.resolve(exA + ".probe.jsonl"), logB = tmp.resolve(exB + ".probe.jsonl");

        List<ProbeProcess> probes = new ArrayList<>();
        try (Network netA = Network.builder().createNetworkCmdModifier(c -> c.withName("htk-na-" + id)).build();
             Network netB = Network.builder().createNetworkCmdModifier(c -> c.withName("htk-nb-" + id)).build();
             GenericContainer<?> server = new GenericContainer<>(HtkDockerEngine.PYTHON_IMAGE)
                     .withImagePullPolicy(HtkDockerEngine.NEVER_PULL)
                     .withCreateContainerCmdModifier(c -> c.withName(pyName))
                     .withNetwork(netB)
                     .withFileSystemBind(app.toString(), "/app", BindMode.READ_ONLY)
                     // one connection per run of the server: the container exits after each
                     .withCommand("python3", "-u", "/app/line_server.py", String.valueOf(PORT))
                     .waitingFor(Wait.forLogMessage(".*listening on.*\\n", 1).withStartupTimeout(Duration.ofSeconds(30)));
             GenericContainer<?> client = new GenericContainer<>(HtkDockerEngine.JVM_IMAGE)
                     .withImagePullPolicy(HtkDockerEngine.NEVER_PULL)
                     .withCreateContainerCmdModifier(c -> c.withName(jvmName))
                     .withNetwork(netA)
                     .withFileSystemBind(app.toString(), "/app", BindMode.READ_ONLY)
                     .withFileSystemBind(gate.toString(), "/gate", BindMode.READ_ONLY)
                     // each run waits for the test's go: the probe must have attached before the connect
                     .withCommand("sh", "-c", "for run in 1 2; do"
                             + " while [ ! -e /gate/go$run ]; do sleep 0.1; done;"
                             + " java /app/LineClient.java $(cat /gate/server) " + PORT + " " + MESSAGES + " || exit 1;"
                             + " done; echo client-finished")) {
            probes.add(ProbeProcess.start(probeJar, tmp, exA, logA, Duration.ZERO, jvmName));
            probes.add(ProbeProcess.start(probeJar, tmp, exB, logB, SKEW_B, pyName));
            ProbeProcess probeA = probes.get(0), probeB = probes.get(1);
            probeA.awaitOutput("running", 1, Duration.ofSeconds(30));
            probeB.awaitOutput("running", 1, Duration.ofSeconds(30));

            server.start();
            client.start();
            DockerClient docker = DockerClientFactory.instance().client();
            // the JVM container reaches executor B's network too (the two networks stand for two hosts)
            docker.connectToNetworkCmd().withContainerId(client.getContainerId()).withNetworkId(netB.getId()).exec();
            String serverIp = docker.inspectContainerCmd(server.getContainerId()).exec()
                    .getNetworkSettings().getNetworks().get("htk-nb-" + id).getIpAddress();
            Files.writeString(gate.resolve("server"), serverIp);
            probeA.awaitOutput("attached to container " + jvmName, 1, Duration.ofSeconds(20));
            probeB.awaitOutput("attached to container " + pyName, 1, Duration.ofSeconds(20));

            // run 1; the server container then exits (one connection per run) and is started again
            Files.writeString(gate.resolve("go1"), "");
            String served1 = AgentInContainerTest.waitForLog(server, "served ", Duration.ofSeconds(60));
            assertTrue(served1.contains("served lines=" + MESSAGES), "run 1 served; python output:\n" + served1);
            for (int i = 0; i < 200 && docker.inspectContainerCmd(server.getContainerId()).exec().getState().getRunning(); i++) Thread.sleep(100);
            probeB.awaitOutput("is gone; detached", 1, Duration.ofSeconds(20));
            docker.startContainerCmd(server.getContainerId()).exec();
            probeB.awaitOutput("attached to container " + pyName, 2, Duration.ofSeconds(20));
            for (int i = 0; i < 100 && countOccurrences(server.getLogs(), "listening on") < 2; i++) Thread.sleep(100);
            assertEquals(2, countOccurrences(server.getLogs(), "listening on"), "the restarted server listens again:\n" + server.getLogs());

            // run 2 over a new connection to the restarted container
            Files.writeString(gate.resolve("go2"), "");
            String out = AgentInContainerTest.waitForLog(client, "client-finished", Duration.ofSeconds(90));
            assertEquals(2, countOccurrences(out, "client-ok messages=" + MESSAGES), "both runs checked every answer:\n" + out);
            String served2 = AgentInContainerTest.waitForLog(server, "served ", Duration.ofSeconds(20));
            assertEquals(2, countOccurrences(served2, "served lines=" + MESSAGES), "run 2 served; python output:\n" + served2);

            for (ProbeProcess p : probes) p.stop();
            List<EventLogEvents> a = EventLogEvents.read(logA), b = EventLogEvents.read(logB);
            long sentPerRun = 0;
            for (int i = 0; i < MESSAGES; i++) sentPerRun += AgentInContainerTest.messageLength(i);
            checkExecutors(a, b, serverIp, sentPerRun, (long) MESSAGES * AgentInContainerTest.REPLY_LENGTH);
            verifyWithTimeline(root, logA, logB);
        } finally {
            for (ProbeProcess p : probes) p.stop();
            for (String ex : List.of(exA, exB)) ProbeProcess.removeExecutorState(ex);
        }
    }

    /** Pairs the JVM side (A) and the python side (B) per connection and direction, byte range by byte range. */
    static void checkExecutors(List<EventLogEvents> a, List<EventLogEvents> b, String serverIp, long sentPerRun, long repliedPerRun) {
        String server = serverIp + ":" + PORT;
        List<String> connections = a.stream().filter(e -> e.kind().equals("send") && server.equals(e.remote()))
                .map(EventLogEvents::local).distinct().toList();
        assertEquals(2, connections.size(), "two connections (one per run) seen by executor A's probe: " + connections);
        for (String clientEnd : connections) {
            List<EventLogEvents> aSend = on(a, "send", clientEnd, server), bRecv = on(b, "recv", server, clientEnd);
            List<EventLogEvents> bSend = on(b, "send", server, clientEnd), aRecv = on(a, "recv", clientEnd, server);
            assertContiguous(aSend, sentPerRun, "A send " + clientEnd);
            assertContiguous(bRecv, sentPerRun, "B recv " + clientEnd);
            assertContiguous(bSend, repliedPerRun, "B send " + clientEnd);
            assertContiguous(aRecv, repliedPerRun, "A recv " + clientEnd);
            assertOrdered(aSend, bRecv);
            assertOrdered(bSend, aRecv);
        }
        // executor B's clock: strictly increasing per process, and never back across the restart
        assertIncreasingPerProcess(b);
        assertIncreasingPerProcess(a);
        List<EventLogEvents> bByConn0 = b.stream().filter(e -> connections.get(0).equals(e.remote())).toList();
        List<EventLogEvents> bByConn1 = b.stream().filter(e -> connections.get(1).equals(e.remote())).toList();
        long last0 = bByConn0.stream().mapToLong(EventLogEvents::hlcWord).max().orElseThrow();
        long first1 = bByConn1.stream().mapToLong(EventLogEvents::hlcWord).min().orElseThrow();
        assertTrue(Long.compareUnsigned(last0, first1) < 0, "executor B's clock did not go back across the container restart: last of run 1 "
                + Long.toHexString(last0) + ", first of run 2 " + Long.toHexString(first1));
    }

    static List<EventLogEvents> on(List<EventLogEvents> events, String kind, String local, String remote) {
        return events.stream().filter(e -> e.kind().equals(kind) && local.equals(e.local()) && remote.equals(e.remote())).toList();
    }

    /** Every byte once: offsets from 0, no gap, no overlap (a double-counted segment would overlap). */
    static void assertContiguous(List<EventLogEvents> events, long total, String what) {
        long at = 0;
        for (EventLogEvents e : events) {
            assertEquals(at, e.offStart(), what + ": the next message starts where the previous ended at " + e.file() + ":" + e.line());
            assertEquals(e.offEnd() - e.offStart(), e.bytes(), what + ": bytes match the offsets at " + e.file() + ":" + e.line());
            at = e.offEnd();
        }
        assertEquals(total, at, what + ": every byte of the direction is stamped exactly once");
    }

    /** Every receive comes after each send whose bytes it carries, in HLC order, despite B's 2 h skew. */
    static void assertOrdered(List<EventLogEvents> sends, List<EventLogEvents> recvs) {
        int s = 0;
        for (EventLogEvents r : recvs) {
            while (s < sends.size() && sends.get(s).offEnd() <= r.offStart()) s++;
            for (int k = s; k < sends.size() && sends.get(k).offStart() < r.offEnd(); k++) {
                EventLogEvents send = sends.get(k);
                assertTrue(Long.compareUnsigned(send.hlcWord(), r.hlcWord()) < 0, "send " + send.file().getFileName() + ":" + send.line()
                        + " (hlc " + send.hlc() + ") happened before recv " + r.file().getFileName() + ":" + r.line() + " (hlc " + r.hlc() + ")");
            }
        }
    }

    static void assertIncreasingPerProcess(List<EventLogEvents> events) {
        java.util.Map<String, EventLogEvents> last = new java.util.HashMap<>();
        for (EventLogEvents e : events) {
            EventLogEvents prev = last.put(e.proc(), e);
            if (prev != null && prev.seq() < e.seq()) {
                assertTrue(Long.compareUnsigned(prev.hlcWord(), e.hlcWord()) < 0, "HLC increases with seq at " + e.file() + ":" + e.line());
            }
        }
    }

    static void verifyWithTimeline(Path root, Path... logs) throws IOException, InterruptedException {
        Path jar = root.resolve("timeline/target/hlctrace-timeline.jar");
        if (!Files.isRegularFile(jar)) {
            System.err.println("ProbeFollowsContainersTest: " + jar + " is not built; timeline verify not run (the checks above still ran)");
            return;
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(), "verify"));
        for (Path l : logs) cmd.add(l.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("timeline verify did not finish within 60 s");
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), "timeline verify finds the merged logs consistent:\n" + out);
    }

    static int countOccurrences(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + what.length())) n++;
        return n;
    }

    /** One executor's probe daemon: hlctrace-probe.jar in a child JVM, following containers by name. */
    static final class ProbeProcess {
        final String executor;
        final Process process;
        final Path output;

        private ProbeProcess(String executor, Process process, Path output) {
            this.executor = executor;
            this.process = process;
            this.output = output;
        }

        static ProbeProcess start(Path jar, Path dir, String executor, Path log, Duration skew, String container) throws IOException {
            Path config = dir.resolve(executor + ".yml");
            Files.writeString(config, "executor: " + executor + "\n"
                    + "event_log: " + log + "\n"
                    + "clock_socket: off\n"
                    // the max-offset guard refuses remote clocks further ahead than this; B is 2 h behind by design
                    + "max_offset: " + MAX_OFFSET.toHours() + "h\n"
                    + (skew.isZero() ? "" : "skew:\n  offset: " + (skew.isNegative() ? "-" : "") + skew.abs().toSeconds() + "s\n")
                    + "targets:\n  docker:\n    socket: " + HtkDockerEngine.SOCKET + "\n    names: [" + container + "]\n");
            Path output = dir.resolve(executor + ".out");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(output.toFile()).start();
            return new ProbeProcess(executor, p, output);
        }

        String output() {
            try {
                return Files.readString(output, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(cannot read " + output + ": " + e + ")";
            }
        }

        void awaitOutput(String text, int times, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (countOccurrences(output(), text) < times && System.nanoTime() < deadline) {
                if (!process.isAlive()) break;
                Thread.sleep(100);
            }
            String out = output();
            assertTrue(countOccurrences(out, text) >= times, "probe " + executor + ": expected '" + text + "' " + times + " time(s)"
                    + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")") + "; its output:\n" + out);
        }

        /** SIGTERM, so the daemon flushes its event log and detaches; then SIGKILL if it hangs. */
        void stop() throws InterruptedException {
            if (!process.isAlive()) return;
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }

        /** The daemon keeps its pinned clock for restarts; a test executor's state goes with the test. */
        static void removeExecutorState(String executor) {
            for (Path dir : List.of(Path.of("/sys/fs/bpf/hlctrace", executor), Path.of("/run/hlctrace", executor))) {
                File[] files = dir.toFile().listFiles();
                if (files != null) for (File f : files) f.delete();
                dir.toFile().delete();
            }
        }
    }
}
