package io.hlctrace.hlc.bench;

import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.SystemPhysicalClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of a timestamp, beside its floor (the physical clock read every now() needs) and a
 * Lamport clock (an AtomicLong increment). Run with `hlctrace bench hlc`, which runs 1 and 2
 * threads and prints the ratios.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ClockBenchmark {
    private HybridLogicalClock inProcess;
    private HybridLogicalClock mappedFile;
    private ExecutorClockFile file;
    private Path dir;
    private final AtomicLong lamport = new AtomicLong();
    private long remote;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        inProcess = HybridLogicalClock.local(Duration.ofMillis(500));
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")), "hlc-bench");
        file = ExecutorClockFile.openOrCreate(dir.resolve("clock"));
        mappedFile = new HybridLogicalClock(file.cell(), SystemPhysicalClock.INSTANCE, Duration.ofMillis(500));
        // a remote timestamp slightly behind: the common case of a receive
        remote = HlcTimestamp.fromNanos(SystemPhysicalClock.INSTANCE.nanos() - 1_000_000L);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        file.close();
        Files.deleteIfExists(dir.resolve("clock"));
        Files.deleteIfExists(dir);
    }

    @Benchmark
    public long physicalClockRead() { return SystemPhysicalClock.INSTANCE.nanos(); }

    @Benchmark
    public long lamportAtomicIncrement() { return lamport.incrementAndGet(); }

    @Benchmark
    public long inProcessNow() { return inProcess.now(); }

    @Benchmark
    public long inProcessUpdate() { return inProcess.update(remote).timestamp(); }

    @Benchmark
    public long mappedFileNow() { return mappedFile.now(); }

    @Benchmark
    public long mappedFileUpdate() { return mappedFile.update(remote).timestamp(); }
}
