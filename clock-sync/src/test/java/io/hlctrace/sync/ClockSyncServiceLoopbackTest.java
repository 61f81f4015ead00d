package io.hlctrace.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.SystemPhysicalClock;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real daemons over UDP on loopback, in one JVM: runs without root. */
class ClockSyncServiceLoopbackTest {
    static final long HOUR = 3_600_000_000_000L;

    @TempDir
    Path dir;

    static int[] freePorts(int n) throws Exception {
        List<DatagramSocket> held = new ArrayList<>();
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (DatagramSocket s : held) s.close();
        }
        return ports;
    }

    static ExecutorClockState newState() {
        return new ExecutorClockState(ByteBuffer.allocateDirect(ExecutorClockState.SIZE), 0);
    }

    List<ClockSyncService> cluster(int[] ports, ExecutorClockState[] states, byte[][] keys) {
        String[] ids = {"a", "b", "c"};
        List<ClockSyncService> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            SyncConfig.Builder b = SyncConfig.builder(ids[i]).bind("127.0.0.1:" + ports[i]).heartbeat(Duration.ofMillis(20))
                    .monitorInterval(Duration.ofMillis(100)).maxOffset(Duration.ofMillis(50)).startupGrace(Duration.ofMillis(500))
                    .correct(true).hmacKey(keys[i]).statusFile(dir.resolve(ids[i] + ".json"));
            for (int j = 0; j < 3; j++) if (j != i) b.peer(ids[j], "127.0.0.1:" + ports[j]);
            out.add(new ClockSyncService(b.build(), states[i], SystemPhysicalClock.INSTANCE));
        }
        return out;
    }

    static void await(long millis, String what, BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) {
            if (cond.getAsBoolean()) return;
            Thread.sleep(20);
        }
        fail(what + " did not happen within " + millis + " ms");
    }

    @Test
    @Timeout(60)
    void aClockTwoHoursBehindIsCorrectedOverUdp() throws Exception {
        ExecutorClockState[] st = {newState(), newState(), newState()};
        st[0].setSkew(-2 * HOUR, 0, 0);
        List<ClockSyncService> c = cluster(freePorts(3), st, new byte[3][]);
        try {
            for (ClockSyncService s : c) s.start();
            await(20_000, "a's correction and recovery", () -> c.get(0).status().corrections() >= 1 && c.get(0).status().healthy()
                    && c.get(0).status().agreed().sources() == 3);
            SyncStatus s = c.get(0).status();
            long oa = st[0].get(ExecutorClockState.OFFSET_NS);
            for (int p = 1; p < 3; p++) {
                long truth = st[p].get(ExecutorClockState.OFFSET_NS) - oa;
                assertTrue(Math.abs(truth) <= s.syncErrorNs() + 1_000_000, "a is " + truth + " ns from peer " + p + ", error " + s.syncErrorNs());
            }
            assertEquals(1, s.unhealthyTransitions(), "the skew was detected before it was corrected");
            // the status file is what the status command reads
            SyncStatus fromFile = SyncStatus.fromJson(Files.readString(dir.resolve("a.json")));
            assertEquals("a", fromFile.executor());
            assertEquals(2, fromFile.peers().size());
        } finally {
            for (ClockSyncService s : c) s.close();
        }
    }

    @Test
    @Timeout(60)
    void packetsWithAWrongKeyAreDroppedAndCountedAndItsSenderFailsStop() throws Exception {
        byte[] key = "0123456789abcdef-shared-secret".getBytes(StandardCharsets.UTF_8);
        byte[] wrong = "0123456789abcdef-WRONG--secret".getBytes(StandardCharsets.UTF_8);
        ExecutorClockState[] st = {newState(), newState(), newState()};
        List<ClockSyncService> c = cluster(freePorts(3), st, new byte[][] {key, key, wrong});
        try {
            for (ClockSyncService s : c) s.start();
            await(20_000, "a healthy with b, c failed", () -> c.get(0).status().healthy()
                    && c.get(2).status().health() == SyncStatus.Health.UNHEALTHY);
            assertEquals(2, c.get(0).status().agreed().sources(), "a agrees with b only");
            assertTrue(c.get(0).status().traffic().authFailures() > 0, "a counted c's packets as failed authentication");
            assertTrue(c.get(2).status().traffic().authFailures() > 0, "c counted a's and b's as failed authentication");
            assertTrue(st[2].unhealthy());
            assertTrue(!c.get(0).status().peer("c").inMajority());
        } finally {
            for (ClockSyncService s : c) s.close();
        }
    }

    @Test
    @Timeout(60)
    void malformedUnknownAndReplayedPacketsAreDroppedAndCounted() throws Exception {
        ExecutorClockState[] st = {newState(), newState(), newState()};
        int[] ports = freePorts(3);
        List<ClockSyncService> c = cluster(ports, st, new byte[3][]);
        try (DatagramSocket attacker = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            for (ClockSyncService s : c) s.start();
            InetAddress lo = InetAddress.getByName("127.0.0.1");
            byte[] junk = "GET / HTTP/1.0\r\n\r\n and some more bytes to pass the header".getBytes(StandardCharsets.UTF_8);
            attacker.send(new DatagramPacket(junk, junk.length, lo, ports[0]));
            ByteBuffer buf = ByteBuffer.allocate(SyncPacket.MAX_SIZE);
            new SyncPacket(SyncPacket.REQUEST, false, "mallory", 1, 0, 0, 0, 0).encode(buf, null);
            attacker.send(new DatagramPacket(buf.array(), buf.limit(), lo, ports[0]));
            // an answer a never asked for, claiming to come from b, with a clock an hour ahead
            new SyncPacket(SyncPacket.RESPONSE, false, "b", 42, 7, HOUR, HOUR, 0).encode(buf, null);
            attacker.send(new DatagramPacket(buf.array(), buf.limit(), lo, ports[0]));
            await(10_000, "the counters", () -> {
                SyncStatus.Traffic t = c.get(0).status().traffic();
                return t.malformed() >= 1 && t.unknownSender() >= 1 && t.unmatched() >= 1;
            });
            await(10_000, "a healthy", () -> c.get(0).status().healthy());
            assertEquals(0, st[0].get(ExecutorClockState.OFFSET_NS) / 1_000_000_000L, "the forged answer moved nothing");
        } finally {
            for (ClockSyncService s : c) s.close();
        }
    }
}
