package io.hlctrace.demo.run;

import io.hlctrace.demo.docker.TestcontainersRuntime;
import io.hlctrace.timeline.Event;
import io.hlctrace.timeline.EventLogs;
import io.hlctrace.timeline.HappenedBefore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The demo's recorded comparison on containers, started through Testcontainers: the same services
 * and workload as the namespace variant, each executor a Docker network with its kernel probe, JVM
 * containers with the mounted agent on the probe's clock, python3 containers behind the probe; one
 * recorded run ordered five ways, with the namespace tests' assertions. The python3 client's
 * container runs twice (started again in between): the probe follows it.
 */
@Timeout(180)
class ContainerComparisonTest {

    @Test
    void containerRunOrdersEverythingByHlcAndFollowsARestartedContainer(@TempDir Path out) throws Exception {
        String why = TestcontainersRuntime.startEngine();
        assumeTrue(why == null, why);
        Path agent = DemoJvmOnlyTest.agentJarOrSkip();
        Path probeJar = Demo.findProbeJar();
        String noProbe = Demo.probeUnavailableReason(probeJar);
        assumeTrue(noProbe == null, "container comparison skipped: " + noProbe + " (the executors' clocks come from the kernel probe)");
        String prefix = "htk" + ProcessHandle.current().pid() % 100_000;

        long start = System.currentTimeMillis();
        DockerDemo.Result r = DockerDemo.run(out, 40, agent, probeJar, new TestcontainersRuntime());
        Demo.Outcome o = r.outcome();
        assertTrue(o.variant().contains("Docker networks " + prefix + "-a"), o.variant());
        // (b), (c), (e) without violations; (a) broken by B's 2 h skew; (d) broken on kept-alive connections
        DemoJvmOnlyTest.assertRecordedRunMatchesTheory(o, System.currentTimeMillis() - start);

        List<Event> events = EventLogs.readAll(o.logs());
        HappenedBefore hb = HappenedBefore.of(events);
        // every JVM container logged through its agent; the python3 containers through probe C
        Map<String, Long> agentEventsByNode = events.stream().filter(e -> !e.src().equals("probe")).collect(Collectors.groupingBy(Event::node, Collectors.counting()));
        assertEquals(java.util.Set.of("A", "B", "C"), agentEventsByNode.keySet(), "agents in the JVM containers of every executor logged");
        assertTrue(events.stream().anyMatch(e -> e.src().equals("probe") && e.node().equals("C") && e.proc().startsWith("python3") && e.isRecv()),
                "probe C stamped the python3 containers' receives");
        long probeToAgent = hb.messageEdges().stream().filter(e -> !e.from().src().equals(e.to().src())).count();
        assertTrue(probeToAgent >= 40, "messages between python3 containers (probe) and JVM containers (agent): " + probeToAgent);
        assertEquals(0, hb.unmatchedRecvs(), "every receive pairs with its send: " + hb.unmatchedRecvExamples());

        // the restarted python3 client: probe C attached to it on each run, its two connections are
        // both stamped, and executor C's clock did not go back across the restart
        DockerDemo.Followed c = r.followed().stream().filter(f -> f.executor().equals("C")).findFirst().orElseThrow();
        assertEquals(1 + DockerDemo.PYTHON_CLIENT_RUNS, c.attached(), "python3 http-service once, the python3 client once per run: " + c);
        assertEquals(1 + DockerDemo.PYTHON_CLIENT_RUNS, c.detached(), "the probe saw the client container go between its runs, and both go at the end: " + c);
        List<Event> clientSide = events.stream().filter(e -> e.src().equals("probe") && e.proc().startsWith("python3") && e.local() != null
                && e.remote() != null && !e.local().endsWith(":" + Workload.PYTHON_HTTP_PORT)).toList();
        Map<String, List<Event>> byConnection = clientSide.stream().collect(Collectors.groupingBy(Event::local));
        assertEquals(DockerDemo.PYTHON_CLIENT_RUNS, byConnection.size(), "one kept-alive connection per run of the client: " + byConnection.keySet());
        List<List<Event>> runs = byConnection.values().stream().sorted((x, y) -> Long.compareUnsigned(x.get(0).hlc(), y.get(0).hlc())).toList();
        long lastOfFirst = runs.get(0).stream().mapToLong(Event::hlc).reduce((x, y) -> Long.compareUnsigned(x, y) >= 0 ? x : y).orElseThrow();
        long firstOfSecond = runs.get(1).stream().mapToLong(Event::hlc).reduce((x, y) -> Long.compareUnsigned(x, y) <= 0 ? x : y).orElseThrow();
        assertTrue(Long.compareUnsigned(lastOfFirst, firstOfSecond) < 0, "executor C's clock does not go back across the restart");
        assertTrue(r.pythonClientEvents() >= 2L * 20, "both runs' requests and answers were stamped: " + r.pythonClientEvents());
        assertTrue(DockerDemo.summary(r).contains("attached 3 time(s)"), DockerDemo.summary(r));

        // nothing left behind
        assertFalse(Files.exists(Path.of("/sys/fs/bpf", prefix)), "the probes' pins were left behind");
        assertFalse(Files.exists(Path.of("/run", prefix)), "the clock sockets were left behind");
        assertEquals("", io.hlctrace.demo.docker.DockerCliRuntime.docker("ps", "-a", "-q", "--filter", "label=io.hlctrace.demo=" + prefix), "containers left behind");
        assertEquals("", io.hlctrace.demo.docker.DockerCliRuntime.docker("network", "ls", "-q", "--filter", "name=" + prefix + "-"), "networks left behind");
    }
}
