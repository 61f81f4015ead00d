package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A ring buffer far too small for a burst: the events that did not fit are counted in the kernel,
 * reported as "drop" events, and every event is either written or counted, none silently lost.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DropAccountingTest {
    static final String BURST = "import socket\n"
            + "l=socket.socket(); l.bind(('127.0.0.1',0)); l.listen(1)\n"
            + "c=socket.create_connection(l.getsockname()); s,_=l.accept()\n"
            + "for i in range(3000):\n c.send(b'x'); s.recv(1)\n"
            + "print('done', flush=True)\n";

    @Test
    void droppedEventsAreCountedAndLogged() throws Exception {
        ScratchExecutor x = ScratchExecutor.create('r');
        String id = x.id();
        Path cgroup = x.cgroup();
        Path dir = x.dir();
        Path log = dir.resolve("events.jsonl");
        ProbeConfig config = new ProbeConfig(id, ProbeConfig.DEFAULT_PIN_ROOT, log, null, Duration.ofSeconds(1), 4, 0, 0,
                List.of(cgroup), List.of(), new ProbeConfig.DockerTargets(Path.of("/nonexistent"), List.of(), List.of()), null);
        Process p = null;
        try {
            long written, dropped, kernelEvents, kernelDrops;
            try (ProbeDaemon d = ProbeDaemon.start(config)) {
                Path out = dir.resolve("burst.out");
                p = new ProcessBuilder("sh", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec python3 -c \"$0\"", BURST)
                        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
                assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, Files.readString(out));
                Thread.sleep(500);
                kernelEvents = d.probe().stat(ProbeStats.EVENTS);
                kernelDrops = d.probe().stat(ProbeStats.RINGBUF_DROPS);
            }
            List<EventLog.Event> events = EventLog.read(log);
            written = events.stream().filter(EventLog.Event::message).count();
            dropped = events.stream().filter(e -> "drop".equals(e.kind())).mapToLong(e -> ((Number) e.raw().get("dropped")).longValue()).sum();
            assertTrue(kernelDrops > 0, "a 4 KiB ring buffer overflows under a burst of 6,000 events");
            assertEquals(kernelDrops, dropped, "every drop counted in the kernel is reported in the log");
            assertEquals(kernelEvents, written, "every event that fitted was written");
            assertEquals(6_000, written + dropped, "3000 one-byte messages = 3000 sends + 3000 receives, each written or counted as dropped");
        } finally {
            if (p != null) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            x.close();
        }
    }
}
