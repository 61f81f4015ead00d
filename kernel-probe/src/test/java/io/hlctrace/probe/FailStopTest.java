package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.sun.jna.Pointer;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.sync.SyncConfig.FailMode;

/**
 * Fail-stop in the kernel (issue 8): executor B's unhealthy flag is set and cleared from Java on
 * its pinned clock record (opened by path and mmapped, as clock-sync or any other process would)
 * while a python3 client on healthy executor A talks to a python3 echo server on B. The flag
 * changes between two phases of the stream (the client waits at a gate), so the test knows which
 * messages were stamped while B was unhealthy. Needs root; skips with the reason otherwise.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class FailStopTest {
    static final int PER_PHASE = 100;
    static NetLab lab;
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        String why = BpfProbe.cannotRunReason();
        assumeTrue(why == null, "fail-stop test skipped: " + why);
        assumeTrue(new ProcessBuilder("sh", "-c", "command -v ip && command -v python3").start().waitFor() == 0,
                "fail-stop test skipped: ip or python3 is not installed (scripts/setup.sh)");
        dir = Files.createTempDirectory("htq-failstop");
        for (String s : List.of("echo_server.py", "phased_client.py")) {
            try (InputStream in = FailStopTest.class.getResourceAsStream(s)) {
                Files.copy(in, dir.resolve(s));
            }
        }
        lab = new NetLab(11);
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (lab != null) {
            lab.close();
            for (String ns : List.of(lab.nsA, lab.nsB)) CrossPathCausalityTest.removePins(ns);
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Bytes of one phase of phased_client.py: the middle phase is [PHASE_BYTES, 2 * PHASE_BYTES) of each direction. */
    static final long PHASE_BYTES;
    static {
        long b = 0;
        for (int i = 0; i < PER_PHASE; i++) b += 1 + (i * 37) % 1000;
        PHASE_BYTES = b;
    }

    static boolean inMiddlePhase(EventLog.Event e) {
        return e.offStart() >= PHASE_BYTES && e.offStart() < 2 * PHASE_BYTES;
    }

    static boolean unhealthy(EventLog.Event e) { return Boolean.TRUE.equals(e.raw().get("unhealthy")); }

    /** The outcome of one run: both logs and B's counters before and after the unhealthy phase. */
    record Run(List<EventLog.Event> logA, List<EventLog.Event> logB, long[] statsBefore, long[] statsAfter, long[] statsEnd) {}

    static final int[] STATS = {ProbeStats.OPTIONS_WRITTEN, ProbeStats.OPTIONS_WITHHELD, ProbeStats.EVENTS_WITHHELD, ProbeStats.OPTIONS_DEFERRED, ProbeStats.EVENTS};

    static long[] stats(ProbeDaemon d) {
        long[] v = new long[STATS.length];
        for (int i = 0; i < STATS.length; i++) v[i] = d.probe().stat(STATS[i]);
        return v;
    }

    Run run(String name, FailMode mode, int port) throws Exception {
        CrossPathCausalityTest.removePins(lab.nsA);
        CrossPathCausalityTest.removePins(lab.nsB);
        Path logA = dir.resolve(name + "-A.jsonl"), logB = dir.resolve(name + "-B.jsonl");
        ProbeDaemon a = ProbeDaemon.start(TwoExecutorsTest.config(lab.nsA, logA, 0, Duration.ofSeconds(1), lab.cgroupA, null));
        ProbeDaemon b = null;
        int fd = -1;
        Pointer map = null;
        try {
            b = ProbeDaemon.start(TwoExecutorsTest.config(lab.nsB, logB, 0, Duration.ofSeconds(1), lab.cgroupB, null).withFailMode(mode));
            // B's record as another process sees it: the pinned map, opened by path and mmapped
            fd = Libbpf.INSTANCE.bpf_obj_get(b.probe().clockPin().toString());
            assertTrue(fd >= 0, "open the pinned clock " + b.probe().clockPin());
            map = LibC.INSTANCE.mmap(null, 4096, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
            ExecutorClockState record = new ExecutorClockState(map.getByteBuffer(0, 64), 0);

            Path srvOut = dir.resolve(name + "-srv.out"), cliOut = dir.resolve(name + "-cli.out");
            lab.startB("python3 " + dir.resolve("echo_server.py") + " " + lab.ipB + " " + port, srvOut);
            TwoExecutorsTest.awaitListening(srvOut);
            Path gate = dir.resolve(name + "-gate");
            Process client = lab.startA("python3 " + dir.resolve("phased_client.py") + " " + lab.ipB + " " + port + " " + PER_PHASE + " " + gate, cliOut);

            awaitOutput(cliOut, "phase 0");
            Thread.sleep(300); // delayed ACKs of phase 0 leave while healthy
            long[] before = stats(b);
            record.set(ExecutorClockState.FLAGS, record.get(ExecutorClockState.FLAGS) | ExecutorClockState.FLAG_UNHEALTHY);
            Files.createFile(Path.of(gate + "0"));
            awaitOutput(cliOut, "phase 1");
            Thread.sleep(300);
            long[] after = stats(b);
            record.set(ExecutorClockState.FLAGS, record.get(ExecutorClockState.FLAGS) & ~ExecutorClockState.FLAG_UNHEALTHY);
            Files.createFile(Path.of(gate + "1"));
            TwoExecutorsTest.waitDone(client, cliOut, 30);
            TwoExecutorsTest.settle(b, 1);
            Thread.sleep(1200); // one housekeeping round reports what was withheld
            long[] end = stats(b);
            a.close();
            a = null;
            b.close();
            b = null;
            return new Run(EventLog.read(logA), EventLog.read(logB), before, after, end);
        } finally {
            if (map != null) LibC.INSTANCE.munmap(map, 4096);
            if (fd >= 0) LibC.INSTANCE.close(fd);
            if (a != null) a.close();
            if (b != null) b.close();
        }
    }

    static void awaitOutput(Path out, String text) throws Exception {
        for (int i = 0; i < 300; i++) {
            if (Files.exists(out) && Files.readString(out).contains(text)) return;
            Thread.sleep(50);
        }
        throw new AssertionError("the client never printed '" + text + "': " + Files.readString(out));
    }

    @Test
    void markUnhealthyStampsEveryEventWithTheFlagAsOfItsStamp() throws Exception {
        Run r = run("mark", FailMode.MARK_UNHEALTHY, 7200);
        List<EventLog.Event> messagesB = r.logB().stream().filter(EventLog.Event::message).toList();
        long sendsB = messagesB.stream().filter(e -> "send".equals(e.kind())).count();
        assertEquals(3 * PER_PHASE, sendsB, "mark-unhealthy keeps stamping: every echo of the three phases has its send event");
        List<String> wrong = new ArrayList<>();
        for (EventLog.Event e : messagesB) {
            if (unhealthy(e) != inMiddlePhase(e) && wrong.size() < 10) wrong.add(e.toString());
        }
        assertEquals(List.of(), wrong, "exactly B's events stamped while its flag was set say \"unhealthy\":true");
        assertTrue(messagesB.stream().anyMatch(FailStopTest::unhealthy), "some events were stamped while unhealthy");
        assertTrue(r.logA().stream().filter(EventLog.Event::message).noneMatch(FailStopTest::unhealthy), "healthy executor A marks nothing");
        assertTrue(r.statsAfter()[0] > r.statsBefore()[0], "options keep flowing while marked unhealthy");
        assertEquals(0, r.statsEnd()[2], "nothing withheld in mark-unhealthy mode");
    }

    @Test
    void refuseWritesNoOptionStampsNothingAndReportsWhatItWithheld() throws Exception {
        Run r = run("refuse", FailMode.REFUSE, 7201);
        long[] before = r.statsBefore(), after = r.statsAfter(), end = r.statsEnd();
        assertEquals(before[0], after[0], "no option written by B while unhealthy with fail_mode refuse");
        assertTrue(after[1] > before[1], "the segments sent without the option are counted: " + (after[1] - before[1]));
        assertTrue(after[3] > before[3], "A's options received while unhealthy were deferred, not merged: " + (after[3] - before[3]));
        assertTrue(end[0] > after[0], "options flow again once healthy");

        List<EventLog.Event> messagesB = r.logB().stream().filter(EventLog.Event::message).toList();
        assertEquals(List.of(), messagesB.stream().filter(FailStopTest::inMiddlePhase).map(Object::toString).toList(), "B stamped nothing while unhealthy");
        assertEquals(2 * PER_PHASE, messagesB.stream().filter(e -> "send".equals(e.kind())).count(), "phases 0 and 2 stamped in full");
        assertTrue(messagesB.stream().noneMatch(FailStopTest::unhealthy));
        long withheld = end[2];
        assertTrue(withheld >= 2L * PER_PHASE, "every send and receive of the middle phase was withheld and counted: " + withheld);
        long reported = r.logB().stream().filter(e -> "drop".equals(e.kind()) && "fail-stop".equals(e.raw().get("cause")))
                .mapToLong(e -> ((Number) e.raw().get("dropped")).longValue()).sum();
        assertEquals(withheld, reported, "the log's fail-stop drop events account for every withheld event");

        // the stream offsets stay right across the gap, and after recovery every receive is above its send
        String server = lab.ipB + ":" + 7201;
        List<EventLog.Event> clientSends = r.logA().stream().filter(e -> "send".equals(e.kind()) && server.equals(e.remote())).toList();
        assertEquals(3 * PER_PHASE, clientSends.size(), "healthy A stamped all of its sends");
        String client = clientSends.get(0).local();
        List<String> problems = new ArrayList<>();
        List<EventLog.Event> lastSends = EventLog.on(r.logA(), "send", client, server).stream().filter(e -> e.offStart() >= 2 * PHASE_BYTES).toList();
        List<EventLog.Event> lastRecvs = EventLog.on(r.logB(), "recv", server, client).stream().filter(e -> e.offStart() >= 2 * PHASE_BYTES).toList();
        int pairs = EventLog.pair(lastSends, lastRecvs, problems);
        List<EventLog.Event> replies = EventLog.on(r.logB(), "send", server, client).stream().filter(e -> e.offStart() >= 2 * PHASE_BYTES).toList();
        pairs += EventLog.pair(replies, EventLog.on(r.logA(), "recv", client, server).stream().filter(e -> e.offStart() >= 2 * PHASE_BYTES).toList(), problems);
        assertEquals(List.of(), problems);
        assertTrue(pairs >= 2 * PER_PHASE, "pairs after recovery: " + pairs);
    }
}
