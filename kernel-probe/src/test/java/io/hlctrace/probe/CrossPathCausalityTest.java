package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Causality across the two stamping paths on a plain connection: a JVM with the real agent on
 * executor A (its cgroup an option-only target of A's probe: the option, no probe events) talks
 * plain TCP (java.net.Socket) to a python3 echo server behind the probe on executor B. The agent
 * stamps from A's pinned BPF clock; the kernel carries that clock in the TCP option both ways.
 * Every agent send pairs by {@code off} with B's probe receive and is ordered before it, and every
 * probe send of B with the agent's receive. Run twice, with the receiving side of each direction
 * two hours behind. Needs root, the BPF objects and javaagent/target/hlctrace-agent.jar.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CrossPathCausalityTest {
    static final Duration TWO_HOURS = Duration.ofHours(2);
    static final int MESSAGES = 300;
    static NetLab lab;
    static Path dir, agentJar;

    @BeforeAll
    static void setUp() throws Exception {
        String why = BpfProbe.cannotRunReason();
        assumeTrue(why == null, "cross-path test skipped: " + why);
        assumeTrue(new ProcessBuilder("sh", "-c", "command -v ip && command -v python3").start().waitFor() == 0,
                "cross-path test skipped: ip or python3 is not installed (scripts/setup.sh)");
        Path built = Path.of("..", "javaagent", "target", "hlctrace-agent.jar").toAbsolutePath().normalize();
        assumeTrue(Files.isRegularFile(built), "cross-path test skipped: the agent jar " + built
                + " is not built (mvn -pl javaagent package -DskipTests; the full build makes it before kernel-probe)");
        dir = Files.createTempDirectory("htq-crosspath");
        // a private copy: the agent may be rebuilt while the test runs
        agentJar = Files.copy(built, dir.resolve("hlctrace-agent.jar"), StandardCopyOption.REPLACE_EXISTING);
        try (InputStream in = CrossPathCausalityTest.class.getResourceAsStream("echo_server.py")) {
            Files.copy(in, dir.resolve("echo_server.py"));
        }
        lab = new NetLab(9);
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (lab != null) {
            lab.close();
            for (String ns : List.of(lab.nsA, lab.nsB)) removePins(ns);
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static void removePins(String executor) throws IOException {
        Path pins = ProbeConfig.DEFAULT_PIN_ROOT.resolve(executor);
        Files.deleteIfExists(pins.resolve("clock"));
        Files.deleteIfExists(pins);
        Path run = Path.of("/run/hlctrace", executor);
        Files.deleteIfExists(run.resolve("probe.lock"));
        Files.deleteIfExists(run);
    }

    @Test
    void agentSendsOrderBeforeProbeReceivesWhenThePythonSideIsTwoHoursBehind() throws Exception {
        exchange("b-behind", 0, -TWO_HOURS.toNanos(), 7100);
    }

    @Test
    void probeSendsOrderBeforeAgentReceivesWhenTheJvmSideIsTwoHoursBehind() throws Exception {
        exchange("a-behind", -TWO_HOURS.toNanos(), 0, 7101);
    }

    /** One run with fresh executor clocks: A (JVM, option-only) and B (python3, events), skewed as given. */
    void exchange(String name, long skewA, long skewB, int port) throws Exception {
        removePins(lab.nsA);
        removePins(lab.nsB);
        Path logA = dir.resolve(name + "-A.jsonl"), logB = dir.resolve(name + "-B.jsonl"), agentLogs = dir.resolve(name + "-agent");
        ProbeConfig configA = new ProbeConfig(lab.nsA, ProbeConfig.DEFAULT_PIN_ROOT, logA, null, Duration.ofHours(3), 1024, skewA, 0.0,
                List.of(), List.of(), new ProbeConfig.DockerTargets(Path.of("/nonexistent"), List.of(), List.of()), null)
                .withOptionOnly(List.of(lab.cgroupA), List.of());
        ProbeConfig configB = TwoExecutorsTest.config(lab.nsB, logB, skewB, Duration.ofHours(3), lab.cgroupB, null);
        ProbeDaemon a = ProbeDaemon.start(configA);
        ProbeDaemon b = null;
        try {
            b = ProbeDaemon.start(configB);
            Path srvOut = dir.resolve(name + "-srv.out");
            lab.startB("python3 " + dir.resolve("echo_server.py") + " " + lab.ipB + " " + port, srvOut);
            TwoExecutorsTest.awaitListening(srvOut);

            Path agentYml = dir.resolve(name + "-agent.yml");
            Files.writeString(agentYml, "node: " + lab.nsA + "\nprocess: pingpong\nclock: bpf:" + a.probe().clockPin()
                    + "\nlogDir: " + agentLogs + "\nregistry: false\nmaxOffset: 3h\nfailHard: true\n");
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Path classes = Path.of(PlainSocketPingPong.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path cliOut = dir.resolve(name + "-jvm.out");
            Process jvm = lab.startWithHostSys(lab.nsA, lab.cgroupA, java + " -javaagent:" + agentJar + "=" + agentYml + " -cp " + classes + " "
                    + PlainSocketPingPong.class.getName() + " " + lab.ipB + " " + port + " " + MESSAGES, cliOut);
            TwoExecutorsTest.waitDone(jvm, cliOut, 90);
            assertTrue(Files.readString(cliOut).contains("done " + MESSAGES), Files.readString(cliOut));
            TwoExecutorsTest.settle(b, 2L * MESSAGES);

            long writtenA = a.probe().stat(ProbeStats.OPTIONS_WRITTEN), mergedA = a.probe().stat(ProbeStats.OPTIONS_MERGED);
            long mergedB = b.probe().stat(ProbeStats.OPTIONS_MERGED), refusedB = b.probe().stat(ProbeStats.OPTIONS_REFUSED);
            a.close();
            a = null;
            b.close();
            b = null;

            List<EventLog.Event> agent = new ArrayList<>();
            try (Stream<Path> files = Files.list(agentLogs)) {
                for (Path f : files.filter(f -> f.toString().endsWith(".jsonl")).toList()) agent.addAll(EventLog.read(f));
            }
            List<EventLog.Event> la = EventLog.read(logA), lb = EventLog.read(logB);
            String server = lab.ipB + ":" + port;
            List<EventLog.Event> agentSends = agent.stream().filter(e -> "send".equals(e.kind()) && server.equals(e.remote())).toList();
            assertEquals(MESSAGES, agentSends.size(), "the agent logged one send per write on the plain connection");
            for (EventLog.Event e : agentSends) assertNull(e.raw().get("msg"), "plain connection: no frame, so no msg id: " + e);
            String client = agentSends.get(0).local();
            assertEquals(0, la.stream().filter(EventLog.Event::message).count(), "option-only: the probe logs no event for the JVM (the agent does)");

            List<String> problems = new ArrayList<>();
            int requests = EventLog.pair(EventLog.on(agent, "send", client, server), EventLog.on(lb, "recv", server, client), problems);
            int replies = EventLog.pair(EventLog.on(lb, "send", server, client), EventLog.on(agent, "recv", client, server), problems);
            assertEquals(List.of(), problems, "agent send < probe recv and probe send < agent recv, paired by off");
            assertTrue(requests >= MESSAGES && replies >= MESSAGES, "pairs: requests " + requests + ", replies " + replies);
            assertTrue(writtenA > 0 && mergedA > 0, "A's kernel wrote and merged options for the JVM's connection: written " + writtenA + ", merged " + mergedA);
            assertTrue(mergedB > 0, "B merged A's options");
            assertEquals(0, refusedB);

            // the skew is real: the two executors' physical clocks are two hours apart
            EventLog.Event s0 = agentSends.get(0), r0 = EventLog.on(lb, "recv", server, client).get(0);
            long gap = (s0.pt() - r0.pt()) - (skewA - skewB);
            assertTrue(Math.abs(gap) < Duration.ofSeconds(5).toNanos(), "pt gap between A and B as configured: off by " + Duration.ofNanos(gap));
        } finally {
            if (a != null) a.close();
            if (b != null) b.close();
        }
    }
}
