package io.hlctrace.hlc;

import static org.junit.jupiter.api.Assertions.*;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClockConcurrencyTest {
    static final int THREADS = 4;
    static final int PER_THREAD = 50_000;

    @Test
    void threadsOnOneInProcessCellGetUniqueIncreasingValues() throws Exception {
        assertUniqueAndIncreasing(HybridLogicalClock.local(Duration.ofSeconds(1)));
    }

    @Test
    void threadsOnOneMappedFileGetUniqueIncreasingValues(@TempDir Path dir) throws Exception {
        try (ExecutorClockFile file = ExecutorClockFile.openOrCreate(dir.resolve("clock"))) {
            assertUniqueAndIncreasing(new HybridLogicalClock(file.cell(), SystemPhysicalClock.INSTANCE, Duration.ofSeconds(1)));
        }
    }

    /** Half the threads tick, half receive far-behind messages: both rules share the word. */
    private static void assertUniqueAndIncreasing(HybridLogicalClock clock) throws Exception {
        long[][] got = new long[THREADS][PER_THREAD];
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int id = t;
            Thread th = new Thread(() -> {
                try { start.await(); } catch (InterruptedException e) { return; }
                for (int i = 0; i < PER_THREAD; i++) {
                    got[id][i] = id % 2 == 0 ? clock.now() : clock.update(HlcTimestamp.of(1, i & 0xFFFF)).timestamp();
                }
            });
            th.start();
            threads.add(th);
        }
        start.countDown();
        for (Thread th : threads) th.join(60_000);
        long[] all = new long[THREADS * PER_THREAD];
        for (int t = 0; t < THREADS; t++) {
            for (int i = 1; i < PER_THREAD; i++) {
                assertTrue(HlcTimestamp.compare(got[t][i - 1], got[t][i]) < 0, "thread " + t + " went backwards at " + i);
            }
            System.arraycopy(got[t], 0, all, t * PER_THREAD, PER_THREAD);
        }
        assertEquals(all.length, Arrays.stream(all).distinct().count(), "every timestamp is unique");
    }

    @Test
    void twoProcessesSharingOneFileGetUniqueValues(@TempDir Path dir) throws Exception {
        Path clockPath = dir.resolve("clock");
        Path childOut = dir.resolve("child.bin");
        try (ExecutorClockFile file = ExecutorClockFile.openOrCreate(clockPath)) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    SharedClockChild.class.getName(), clockPath.toString(), childOut.toString(), Integer.toString(PER_THREAD))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
            try {
                HybridLogicalClock clock = new HybridLogicalClock(file.cell(), SystemPhysicalClock.INSTANCE, Duration.ofSeconds(1));
                long[] mine = new long[PER_THREAD * 2];
                for (int i = 0; i < mine.length; i++) mine[i] = clock.now();
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child finished");
                assertEquals(0, child.exitValue(), () -> "child failed: " + readQuietly(dir.resolve("child.log")));
                long[] theirs = new long[PER_THREAD];
                try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(childOut)))) {
                    for (int i = 0; i < theirs.length; i++) theirs[i] = in.readLong();
                }
                for (int i = 1; i < theirs.length; i++) assertTrue(HlcTimestamp.compare(theirs[i - 1], theirs[i]) < 0);
                long[] all = new long[mine.length + theirs.length];
                System.arraycopy(mine, 0, all, 0, mine.length);
                System.arraycopy(theirs, 0, all, mine.length, theirs.length);
                assertEquals(all.length, Arrays.stream(all).distinct().count(), "unique across the two processes");
                long highest = Arrays.stream(all).reduce(0L, HlcTimestamp::max);
                assertEquals(highest, file.cell().get(), "the shared word holds the last timestamp either process handed out");
            } finally {
                child.destroyForcibly();
            }
        }
    }

    private static String readQuietly(Path p) {
        try { return Files.readString(p); } catch (Exception e) { return "(no log)"; }
    }

    /** The second process of the cross-process test. */
    public static final class SharedClockChild {
        public static void main(String[] args) throws Exception {
            int n = Integer.parseInt(args[2]);
            try (ExecutorClockFile file = ExecutorClockFile.open(Path.of(args[0]));
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(Path.of(args[1]))))) {
                HybridLogicalClock clock = new HybridLogicalClock(file.cell(), SystemPhysicalClock.INSTANCE, Duration.ofSeconds(1));
                long[] got = new long[n];
                for (int i = 0; i < n; i++) got[i] = clock.now();
                for (long v : got) out.writeLong(v);
            }
        }
    }
}
