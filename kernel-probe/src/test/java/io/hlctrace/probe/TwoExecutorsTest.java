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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import com.sun.jna.Pointer;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.SystemPhysicalClock;

/**
 * Two executors on this machine, each a network namespace + cgroup v2 + its own probe daemon and
 * clock; executor B's physical clock is set two hours behind. Real kernel, real BPF, real python3
 * and curl. Needs root (CI runs as root); skips with the reason otherwise.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TwoExecutorsTest {
    static final Duration B_BEHIND = Duration.ofHours(2);
    static NetLab lab;
    static Path dir;
    static ProbeDaemon a, b;
    static Path logA, logB;
    static Path scripts;

    @BeforeAll
    static void setUp() throws Exception {
        String why = BpfProbe.cannotRunReason();
        assumeTrue(why == null, "kernel probe tests skipped: " + why);
        for (String tool : List.of("ip", "python3", "curl", "tcpdump")) {
            assumeTrue(new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0, "kernel probe tests skipped: " + tool + " is not installed (scripts/setup.sh)");
        }
        dir = Files.createTempDirectory("htq-probe-test");
        scripts = dir;
        for (String s : List.of("echo_server.py", "pingpong_client.py")) {
            try (InputStream in = TwoExecutorsTest.class.getResourceAsStream(s)) {
                Files.copy(in, dir.resolve(s));
            }
        }
        Files.writeString(dir.resolve("page.html"), "x".repeat(20_000));
        lab = new NetLab(7);
        logA = dir.resolve("A.jsonl");
        logB = dir.resolve("B.jsonl");
        a = ProbeDaemon.start(config(lab.nsA, logA, 0, Duration.ofHours(3), lab.cgroupA, dir.resolve("a.sock")));
        b = ProbeDaemon.start(config(lab.nsB, logB, -B_BEHIND.toNanos(), Duration.ofHours(3), lab.cgroupB, null));
    }

    static ProbeConfig config(String executor, Path log, long offsetNanos, Duration maxOffset, Path cgroup, Path socket) {
        return new ProbeConfig(executor, ProbeConfig.DEFAULT_PIN_ROOT, log, socket, maxOffset, 1024, offsetNanos, 0.0,
                List.of(cgroup), List.of(), new ProbeConfig.DockerTargets(Path.of("/nonexistent"), List.of(), List.of()), null);
    }

    @AfterAll
    static void tearDown() throws IOException {
        try {
            if (a != null) a.close();
            if (b != null) b.close();
        } finally {
            if (lab != null) {
                lab.close();
                for (String ns : List.of(lab.nsA, lab.nsB)) {
                    Path pins = ProbeConfig.DEFAULT_PIN_ROOT.resolve(ns);
                    Files.deleteIfExists(pins.resolve("clock"));
                    Files.deleteIfExists(pins);
                    Path run = Path.of("/run/hlctrace", ns);
                    Files.deleteIfExists(run.resolve("probe.lock"));
                    Files.deleteIfExists(run);
                }
            }
            if (dir != null) {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    /** Waits until the daemon has written at least {@code min} events and then nothing new for 300 ms. */
    static void settle(ProbeDaemon d, long min) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long last = -1;
        while (System.nanoTime() < deadline) {
            long n = d.eventsWritten();
            if (n >= min && n == last) break;
            last = n;
            Thread.sleep(300);
        }
        Thread.sleep(200); // the log is flushed every poll round (100 ms)
    }

    static Process waitDone(Process p, Path out, int seconds) throws Exception {
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "timed out; output: " + Files.readString(out));
        assertEquals(0, p.exitValue(), "failed; output: " + Files.readString(out));
        return p;
    }

    static void awaitListening(Path out) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (Files.exists(out) && Files.readString(out).contains("listening")) return;
            Thread.sleep(50);
        }
        throw new AssertionError("server did not start: " + Files.readString(out));
    }

    @Test
    @Order(1)
    void pythonLongLivedConnectionEveryMessagePairedAndOptionOnTheWire() throws Exception {
        int messages = 2000;
        Path srvOut = dir.resolve("srv7000.out");
        lab.startB("python3 " + scripts.resolve("echo_server.py") + " " + lab.ipB + " 7000", srvOut);
        awaitListening(srvOut);
        Path dump = dir.resolve("tcpdump.out");
        Process tcpdump = new ProcessBuilder("ip", "netns", "exec", lab.nsA, "tcpdump", "-l", "-nn", "-v", "-i", lab.vethA, "-c", "8", "tcp port 7000")
                .redirectErrorStream(true).redirectOutput(dump.toFile()).start();
        try {
            for (int i = 0; i < 100 && !Files.readString(dump).contains("listening on"); i++) Thread.sleep(50);

            // a plain Java process on executor A's clock, racing the BPF programs by CAS on the same word
            int fd = ClockSocketServer.receiveFd(dir.resolve("a.sock"));
            Pointer map = LibC.INSTANCE.mmap(null, 4096, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
            ExecutorClockState shared = new ExecutorClockState(map.getByteBuffer(0, 64), 0);
            HybridLogicalClock javaClock = new HybridLogicalClock(shared.hlcCell(), shared.physicalClock(SystemPhysicalClock.INSTANCE), Duration.ofHours(3));
            long[] javaTicks = new long[300_000];
            Thread racer = new Thread(() -> {
                for (int i = 0; i < javaTicks.length; i++) javaTicks[i] = javaClock.now();
            });

            Path cliOut = dir.resolve("cli7000.out");
            Process client = lab.startA("python3 " + scripts.resolve("pingpong_client.py") + " " + lab.ipB + " 7000 " + messages, cliOut);
            racer.start();
            waitDone(client, cliOut, 60);
            racer.join(30_000);
            LibC.INSTANCE.munmap(map, 4096);
            LibC.INSTANCE.close(fd);
            settle(a, 2L * messages);
            settle(b, 2L * messages);

            assertTrue(tcpdump.waitFor(10, TimeUnit.SECONDS), "tcpdump saw fewer than 8 segments: " + Files.readString(dump));
            String wire = Files.readString(dump);
            long withOption = wire.lines().filter(l -> l.contains("exp-484c")).count();
            assertTrue(withOption >= 8, "every captured segment (SYN, SYN-ACK, data, ACK) carries option kind 254 with ExID 0x484C:\n" + wire);

            List<EventLog.Event> la = EventLog.read(logA), lb = EventLog.read(logB);
            List<EventLog.Event> sendsA = la.stream().filter(e -> "send".equals(e.kind()) && e.remote().equals(lab.ipB + ":7000")).toList();
            assertEquals(messages, sendsA.size(), "one send event per message of the client");
            String client1 = sendsA.get(0).local();
            String server = lab.ipB + ":7000";
            List<String> problems = new ArrayList<>();
            int ab = EventLog.pair(EventLog.on(la, "send", client1, server), EventLog.on(lb, "recv", server, client1), problems);
            int ba = EventLog.pair(EventLog.on(lb, "send", server, client1), EventLog.on(la, "recv", client1, server), problems);
            assertEquals(List.of(), problems);
            assertTrue(ab >= messages && ba >= messages, "pairs A->B " + ab + ", B->A " + ba);
            long sent = sendsA.stream().mapToLong(EventLog.Event::bytes).sum();
            assertEquals(sent, EventLog.on(lb, "send", server, client1).stream().mapToLong(EventLog.Event::bytes).sum(), "the server's sends echo every byte");

            // B's physical clock reads two hours behind A's, yet every receive is stamped above its send
            EventLog.Event s0 = sendsA.get(0);
            EventLog.Event r0 = EventLog.on(lb, "recv", server, client1).get(0);
            long gap = s0.pt() - r0.pt();
            assertTrue(Math.abs(gap - B_BEHIND.toNanos()) < Duration.ofSeconds(5).toNanos(), "B's pt is 2 h behind A's: gap " + Duration.ofNanos(gap));
            assertTrue(Long.compareUnsigned(r0.hlc(), s0.hlc()) > 0);
            assertEquals(0, b.probe().stat(ProbeStats.OPTIONS_REFUSED), "nothing refused within the 3 h max offset");
            assertEquals(0, a.probe().stat(ProbeStats.RINGBUF_DROPS));
            assertEquals(List.of(), EventLog.processOrderViolations(la));
            assertEquals(List.of(), EventLog.processOrderViolations(lb));

            // BPF turns pt into HLC units (division-free) exactly as HlcTimestamp.fromNanos does:
            // no stamp is below its own pt, and on A, whose stamps mostly come from its own physical
            // clock, some stamp is exactly its pt (a conversion off by one unit either way fails one)
            for (EventLog.Event e : la) {
                if (e.message()) assertTrue(Long.compareUnsigned(e.hlc(), HlcTimestamp.fromNanos(e.pt())) >= 0, "stamp below its pt: " + e.raw());
            }
            assertTrue(la.stream().anyMatch(e -> e.message() && e.hlc() == HlcTimestamp.fromNanos(e.pt())), "no stamp on A equals HlcTimestamp.fromNanos(pt)");

            // Java's CAS ticks and the kernel's stamps on executor A never collide, and Java's increase
            Set<Long> stamps = new HashSet<>();
            for (EventLog.Event e : la) if (e.message()) stamps.add(e.hlc());
            for (int i = 0; i < javaTicks.length; i++) {
                assertTrue(i == 0 || Long.compareUnsigned(javaTicks[i], javaTicks[i - 1]) > 0, "Java ticks increase");
                assertTrue(!stamps.contains(javaTicks[i]), "a Java tick equals a BPF stamp: " + HlcTimestamp.toHex(javaTicks[i]));
            }
        } finally {
            tcpdump.destroyForcibly();
        }
    }

    @Test
    @Order(2)
    void curlKeepAliveAgainstPythonHttpServer() throws Exception {
        Path srvOut = dir.resolve("http.out");
        lab.startB("python3 -u -m http.server --protocol HTTP/1.1 --bind " + lab.ipB + " --directory " + dir + " 8000", srvOut);
        for (int i = 0; i < 100 && !(Files.exists(srvOut) && Files.readString(srvOut).contains("Serving HTTP")); i++) Thread.sleep(50);
        int requests = 30;
        StringBuilder urls = new StringBuilder();
        for (int i = 0; i < requests; i++) urls.append(" http://").append(lab.ipB).append(":8000/page.html");
        Path cliOut = dir.resolve("curl.out");
        Process curl = lab.startA("curl -s -S -o /dev/null -w '%{num_connects}\\n'" + urls, cliOut);
        waitDone(curl, cliOut, 30);
        assertEquals(1, Files.readAllLines(cliOut).stream().filter(l -> l.strip().equals("1")).count(), "curl reused one keep-alive connection: " + Files.readString(cliOut));
        settle(a, 1);
        settle(b, 1);
        List<EventLog.Event> la = EventLog.read(logA), lb = EventLog.read(logB);
        String server = lab.ipB + ":8000";
        List<EventLog.Event> curlSends = la.stream().filter(e -> "send".equals(e.kind()) && e.remote().equals(server)).toList();
        assertTrue(curlSends.size() >= requests, "a send per request: " + curlSends.size());
        Set<String> clientPorts = new HashSet<>();
        curlSends.forEach(e -> clientPorts.add(e.local()));
        assertEquals(1, clientPorts.size(), "one connection");
        String client = clientPorts.iterator().next();
        List<String> problems = new ArrayList<>();
        int requestsPaired = EventLog.pair(EventLog.on(la, "send", client, server), EventLog.on(lb, "recv", server, client), problems);
        int responsesPaired = EventLog.pair(EventLog.on(lb, "send", server, client), EventLog.on(la, "recv", client, server), problems);
        assertEquals(List.of(), problems);
        assertTrue(requestsPaired >= requests && responsesPaired >= requests);
        long responseBytes = EventLog.on(la, "recv", client, server).stream().mapToLong(EventLog.Event::bytes).sum();
        assertTrue(responseBytes >= requests * 20_000L, "all response bodies were seen by the probe: " + responseBytes);
    }

    @Test
    @Order(3)
    void ipv6ConnectionIsStampedAndPaired() throws Exception {
        Path srvOut = dir.resolve("srv6.out");
        lab.startB("python3 -c \"import socket,sys\ns=socket.socket(socket.AF_INET6)\ns.bind(('" + lab.ip6B + "',7006))\ns.listen(1)\nprint('listening',flush=True)\n"
                + "c,_=s.accept()\nwhile True:\n d=c.recv(65536)\n if not d: break\n c.sendall(d)\n\"", srvOut);
        awaitListening(srvOut);
        Path cliOut = dir.resolve("cli6.out");
        waitDone(lab.startA("python3 " + scripts.resolve("pingpong_client.py") + " " + lab.ip6B + " 7006 200", cliOut), cliOut, 30);
        settle(a, 400);
        settle(b, 400);
        List<EventLog.Event> la = EventLog.read(logA), lb = EventLog.read(logB);
        String server = "[" + java.net.InetAddress.getByName(lab.ip6B).getHostAddress() + "]:7006";
        List<EventLog.Event> sends = la.stream().filter(e -> "send".equals(e.kind()) && server.equals(e.remote())).toList();
        assertEquals(200, sends.size(), "IPv6 sends logged with [addr]:port endpoints");
        String client = sends.get(0).local();
        List<String> problems = new ArrayList<>();
        EventLog.pair(sends, EventLog.on(lb, "recv", server, client), problems);
        EventLog.pair(EventLog.on(lb, "send", server, client), EventLog.on(la, "recv", client, server), problems);
        assertEquals(List.of(), problems);
    }

    @Test
    @Order(4)
    void farFutureOptionIsRefusedAndTheConnectionStillWorks() throws Exception {
        Path srvOut = dir.resolve("srv7001.out");
        lab.startB("python3 " + scripts.resolve("echo_server.py") + " " + lab.ipB + " 7001", srvOut);
        awaitListening(srvOut);
        long refusedBefore = b.probe().stat(ProbeStats.OPTIONS_REFUSED);
        long forged = HlcTimestamp.fromNanos(System.currentTimeMillis() * 1_000_000L + Duration.ofDays(30).toNanos());
        Path cliOut = dir.resolve("cli7001.out");
        Process client = lab.startA("python3 " + scripts.resolve("pingpong_client.py") + " " + lab.ipB + " 7001 200 0.002", cliOut);
        Thread.sleep(300);
        a.probe().forgeOptions(forged, 5); // executor A plays a broken peer for five segments
        waitDone(client, cliOut, 30);
        settle(b, 1);
        assertTrue(Files.readString(cliOut).contains("done 200"), "the connection kept working");
        assertTrue(b.probe().stat(ProbeStats.OPTIONS_REFUSED) - refusedBefore >= 1, "B refused the forged option");
        long clockB = b.clockState().get(ExecutorClockState.HLC);
        assertTrue(Long.compareUnsigned(HlcTimestamp.l(clockB), HlcTimestamp.l(forged) - 1000) < 0, "B's clock was not dragged 30 days ahead: " + HlcTimestamp.toSortableString(clockB));
        List<EventLog.Event> refusedRecvs = EventLog.read(logB).stream().filter(e -> "recv".equals(e.kind()) && e.refused()).toList();
        if (!refusedRecvs.isEmpty()) assertEquals(forged, refusedRecvs.get(0).rhlc(), "a refused receive names the refused HLC");
    }

    @Test
    @Order(5)
    void restartKeepsTheClockMonotonicAndKernelAndJavaReadTheSamePhysicalClock() throws Exception {
        long before = a.clockState().get(ExecutorClockState.HLC);
        a.close();
        a = null;
        Path log2 = dir.resolve("A2.jsonl");
        a = ProbeDaemon.start(config(lab.nsA, log2, -Duration.ofHours(4).toNanos(), Duration.ofHours(3), lab.cgroupA, null));
        long after = a.clockState().get(ExecutorClockState.HLC);
        assertTrue(Long.compareUnsigned(after, before) >= 0, "the pinned clock was reused: " + HlcTimestamp.toHex(before) + " -> " + HlcTimestamp.toHex(after));
        EventLog.Event start = EventLog.read(log2).get(0);
        assertEquals("start", start.kind());
        assertTrue(Long.compareUnsigned(start.hlc(), before) > 0, "the first stamp after the restart is above the last before it");

        // 50 ppm of drift for ten days = 43.2 s: BPF must apply SkewedPhysicalClock's formula exactly like Java
        long now = SystemPhysicalClock.INSTANCE.nanos();
        a.clockState().setSkew(-Duration.ofHours(4).toNanos(), 50_000, now - Duration.ofDays(10).toNanos());
        var physical = a.clockState().physicalClock(SystemPhysicalClock.INSTANCE);
        long lo = physical.nanos();
        Path cliOut = dir.resolve("cli-restart.out");
        waitDone(lab.startA("python3 " + scripts.resolve("pingpong_client.py") + " " + lab.ipB + " 7000 20", cliOut), cliOut, 30);
        long hi = physical.nanos();
        settle(a, 40);
        List<EventLog.Event> messages = EventLog.read(log2).stream().filter(EventLog.Event::message).toList();
        assertEquals(40, messages.size());
        for (EventLog.Event e : messages) {
            assertTrue(e.pt() >= lo && e.pt() <= hi, "kernel pt " + e.pt() + " outside the Java readings [" + lo + ", " + hi + "] of the same executor clock");
        }
    }
}
