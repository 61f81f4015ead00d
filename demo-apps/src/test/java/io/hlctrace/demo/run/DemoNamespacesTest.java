package io.hlctrace.demo.run;

import io.hlctrace.timeline.Event;
import io.hlctrace.timeline.EventLogs;
import io.hlctrace.timeline.HappenedBefore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The demo with each executor in its own network namespace and cgroup (root only), with a kernel
 * probe per executor and python3 services when the probe is built.
 */
@Timeout(120)
class DemoNamespacesTest {

    @Test
    void namespaceRunOrdersEverythingByHlcAndCleansUp(@TempDir Path out) throws Exception {
        String why = Namespaces.unavailableReason();
        assumeTrue(why == null, "the namespace variant cannot run here: " + why);
        Path agent = DemoJvmOnlyTest.agentJarOrSkip();
        String prefix = "htd" + ProcessHandle.current().pid() % 100_000;
        long start = System.currentTimeMillis();
        Path probeJar = Demo.findProbeJar();
        Demo.Outcome o = Demo.run(out, 40, agent, true, Demo.probeUnavailableReason(probeJar) == null ? probeJar : null);
        assertTrue(o.variant().contains("network namespaces " + prefix), o.variant());
        // the services talked over the namespaces' veths, not the loopback
        assertTrue(Files.readString(o.merged()).contains("\"remote\":\"10.203."), "no connection on the demo's 10.203 subnet");
        DemoJvmOnlyTest.assertRecordedRunMatchesTheory(o, System.currentTimeMillis() - start);
        if (o.variant().contains("kernel probe")) {
            // python3 behind the probe and JVMs with the agent, paired by byte offsets on plain connections
            List<Event> events = EventLogs.readAll(o.logs());
            HappenedBefore hb = HappenedBefore.of(events);
            long probeToAgent = hb.messageEdges().stream().filter(e -> !e.from().src().equals(e.to().src())).count();
            assertTrue(events.stream().anyMatch(e -> e.src().equals("probe") && e.proc().startsWith("python3") && e.isRecv()), "no python3 receive stamped by the probe");
            assertTrue(probeToAgent >= 40, "messages between python3 (probe) and JVMs (agent): " + probeToAgent);
            assertEquals(0, hb.unmatchedRecvs(), "every receive pairs with its send: " + hb.unmatchedRecvExamples());
        }
        // nothing left behind
        assertFalse(Namespaces.sh("ip", "netns", "list").contains(prefix), "a namespace was left behind");
        assertFalse(Files.exists(Path.of("/sys/fs/bpf", prefix)), "the probes' pins were left behind");
        try (var s = Files.list(Namespaces.CGROUP2)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(prefix)), "a cgroup was left behind");
        }
    }
}
