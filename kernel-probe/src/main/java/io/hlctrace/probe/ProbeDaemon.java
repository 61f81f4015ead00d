package io.hlctrace.probe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.SystemPhysicalClock;
import io.hlctrace.sync.ClockSyncService;
import io.hlctrace.sync.SyncConfig;

/**
 * One executor's probe daemon: owns the executor clock (the pinned BPF map), keeps its physical
 * clock parameters (TAI offset, simulated skew, max offset) up to date, attaches the probe to the
 * targets, writes the event log from the ring buffer, counts drops, and serves the clock map fd.
 */
public final class ProbeDaemon implements AutoCloseable {
    /** How long events may wait in the ring buffer before the daemon writes them. */
    static final int POLL_MS = 50;
    private final ProbeConfig config;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final BpfProbe probe;
    private final ExecutorClockState state;
    private final HybridLogicalClock clock;
    private EventLogFile log;
    private final String selfProc;
    private final Map<String, Long> seqByProc = new HashMap<>();
    private final StringBuilder lineBuffer = new StringBuilder(512);
    private RingBufferReader ringBuffer;
    /** The drained records of one batch, copied (native order), with their HLCs for sorting. */
    private ByteBuffer batch = ByteBuffer.allocate(4096 * ProbeEvent.SIZE).order(ByteOrder.nativeOrder());
    private long[] batchHlc = new long[4096];
    private int[] batchOrder = new int[4096];
    private int batchSize;
    private ProbeLogFormatter formatter;
    private final Thread poller;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private ClockSocketServer clockSocket;
    private DockerFollower docker;
    private ClockSyncService sync;
    private volatile boolean running = true;
    private volatile long events;
    private long reportedDrops, reportedWithheld, lastRefreshNanos;
    /** The probe's field on its drop events: why the events are missing (docs/kernel-probe.md). */
    private IOException logFailure;
    private volatile String finalSummary;

    private ProbeDaemon(ProbeConfig config) {
        this.config = config;
        Kernel.requireRoot();
        Path lockFile = Path.of("/run/hlctrace", config.executor(), "probe.lock");
        try {
            Files.createDirectories(lockFile.getParent());
            lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            lock = lockChannel.tryLock();
        } catch (IOException e) {
            throw new ProbeException("cannot create the lock file " + lockFile + ": " + e.getMessage(), "run as root; /run must be writable");
        }
        if (lock == null) {
            throw new ProbeException("another probe daemon for executor '" + config.executor() + "' is running (it holds " + lockFile + ")",
                    "stop it first (systemctl stop hlctrace-probe@" + config.executor() + ", or kill its pid), or give this one another executor id");
        }
        BpfProbe p = null;
        try {
            p = new BpfProbe(config.pinDir(), config.ringBufferKib() * 1024);
            this.probe = p;
            this.state = p.clockState();
            configureClock();
            this.clock = new HybridLogicalClock(state.hlcCell(), state.physicalClock(SystemPhysicalClock.INSTANCE), config.maxOffset());
            this.selfProc = "hlctrace-probe:" + ProcessHandle.current().pid();
            this.log = new EventLogFile(config.eventLog());
            this.formatter = new ProbeLogFormatter(config.executor());
            probe.setFailRefuse(config.failMode() == SyncConfig.FailMode.REFUSE);
            for (Path cg : config.cgroups()) probe.attachCgroup(cg);
            for (int pid : config.pids()) probe.attachCgroup(cgroupOfTargetPid(pid));
            for (Path cg : config.optionOnlyCgroups()) probe.attachCgroupOptionOnly(cg);
            for (int pid : config.optionOnlyPids()) probe.attachCgroupOptionOnly(cgroupOfTargetPid(pid));
            ringBuffer = new RingBufferReader(probe.eventsFd(), config.ringBufferKib() * 1024L);
            clockSocket = config.clockSocket() == null ? null : new ClockSocketServer(config.clockSocket(), probe.clockFd());
            sync = startSync();
            writeDaemonEvent(EventLogLine.KIND_START, "probe started: pins " + config.pinDir() + ", cgroups " + probe.attachedCgroups()
                    + (probe.optionOnlyCgroups().isEmpty() ? "" : ", option-only cgroups " + probe.optionOnlyCgroups()) + ", fail_mode " + config.failMode().yamlName());
            log.flush();
        } catch (IOException e) {
            abortStart(p);
            throw new ProbeException("cannot open the event log " + config.eventLog() + ": " + e.getMessage(), "check event_log in the configuration");
        } catch (RuntimeException e) {
            abortStart(p);
            throw e;
        }
        if (config.docker().any()) docker = new DockerFollower(config.docker(), probe, this::info);
        poller = new Thread(this::pollLoop, "hlctrace-probe-ringbuf-" + config.executor());
        poller.start();
    }

    /** A pid target is covered through its cgroup v2 directory, which must not be the whole machine. */
    static Path cgroupOfTargetPid(int pid) {
        Path cg = Kernel.cgroupOfPid(pid);
        if (cg.equals(ProbeConfig.CGROUP2_ROOT)) {
            throw new ProbeException("process " + pid + " is in the root cgroup: attaching there would stamp every process of the machine",
                    "run it in a cgroup of its own (e.g. systemd-run --scope, or mkdir a cgroup and write the pid to its cgroup.procs), or list "
                            + ProbeConfig.CGROUP2_ROOT + " under targets.cgroups if the whole machine is meant");
        }
        return cg;
    }

    /** Undoes a start that failed half way, so that nothing stays attached, bound or locked. */
    private void abortStart(BpfProbe p) {
        if (sync != null) sync.close();
        if (clockSocket != null) clockSocket.close();
        if (ringBuffer != null) ringBuffer.close();
        if (p != null) p.close();
        if (log != null) {
            try {
                log.close();
            } catch (IOException ignored) {
                // the start failed already; that error is the one to report
            }
        }
        releaseLock();
    }

    /** The sync: section of probe.yml: clock-sync adjusts this executor's record (offset, flags, error). */
    static SyncConfig syncConfig(ProbeConfig config) {
        if (config.sync() == null) return null;
        Map<String, Object> section = new java.util.LinkedHashMap<>(config.sync());
        if (!section.containsKey("executor") && !section.containsKey("id") && !section.containsKey("executor-id")) section.put("executor", config.executor());
        if (!section.containsKey("status-file") && !section.containsKey("statusFile")) section.put("status-file", syncStatusFile(config).toString());
        // one fail mode for the executor: probe.yml's fail_mode (ProbeConfig checked that they agree)
        if (section.keySet().stream().noneMatch(k -> k.replace("-", "").replace("_", "").equalsIgnoreCase("failmode"))) {
            section.put("fail-mode", config.failMode().yamlName());
        }
        try {
            return SyncConfig.fromMap(section, "probe.yml sync");
        } catch (IllegalArgumentException e) {
            throw new ProbeException(e.getMessage(), "fix the sync: section (docs/clock-sync.md)");
        }
    }

    /** Where clock-sync's status goes unless sync.status-file says otherwise. */
    static Path syncStatusFile(ProbeConfig config) {
        return Path.of("/run/hlctrace", config.executor(), "sync-status.json");
    }

    private ClockSyncService startSync() {
        SyncConfig sc = syncConfig(config);
        if (sc == null) return null;
        try {
            return new ClockSyncService(sc, state, SystemPhysicalClock.INSTANCE).start();
        } catch (IOException e) {
            throw new ProbeException("clock sync could not start: " + e.getMessage(), "fix sync.bind / sync.port in probe.yml");
        }
    }

    /** Starts the daemon: loads, attaches, and begins writing the event log. */
    public static ProbeDaemon start(ProbeConfig config) {
        return new ProbeDaemon(config);
    }

    private void configureClock() {
        state.set(ExecutorClockState.TAI_MINUS_UTC_NS, Kernel.taiMinusUtcNanos());
        state.set(ExecutorClockState.MAX_OFFSET_NS, config.maxOffset().toNanos());
        long ppb = Math.round(config.skewDriftPpm() * 1000.0);
        // A restart with the same drift keeps its epoch, so the drift accumulated so far stays.
        long epoch = state.get(ExecutorClockState.DRIFT_PPB) == ppb && state.get(ExecutorClockState.DRIFT_EPOCH_NS) != 0
                ? state.get(ExecutorClockState.DRIFT_EPOCH_NS) : SystemPhysicalClock.INSTANCE.nanos();
        state.setSkew(config.skewOffsetNanos(), ppb, epoch);
    }

    private void onRecord(ByteBuffer ring, int recordAt, int length) {
        if (length < ProbeEvent.SIZE) return;
        if (batchSize == batchHlc.length) {
            int n = batchSize * 2;
            batchHlc = Arrays.copyOf(batchHlc, n);
            batchOrder = Arrays.copyOf(batchOrder, n);
            ByteBuffer bigger = ByteBuffer.allocate(n * ProbeEvent.SIZE).order(ByteOrder.nativeOrder());
            bigger.put(0, batch, 0, batchSize * ProbeEvent.SIZE);
            batch = bigger;
        }
        int at = batchSize * ProbeEvent.SIZE;
        batch.put(at, ring, recordAt, ProbeEvent.SIZE);
        batchHlc[batchSize] = batch.getLong(at);
        batchOrder[batchSize] = batchSize;
        batchSize++;
    }

    /**
     * Writes a drained batch in HLC order: the ring buffer holds events in the order they were
     * reserved, and two threads of one process may reserve in the opposite order of their
     * stamps; seq must follow the stamps (for one thread both orders are the same).
     */
    private void writeBatch() throws IOException {
        sortBatchByHlc();
        for (int i = 0; i < batchSize; i++) {
            // "unhealthy" comes from the kernel: the flag as it was when the event was stamped
            formatter.format(batch, batchOrder[i] * ProbeEvent.SIZE, log.buffer());
            log.flushIfFull();
        }
        events += batchSize;
        batchSize = 0;
    }

    /**
     * Orders batchOrder by unsigned HLC. A batch is nearly sorted (inversions come only from
     * stamps and reservations racing on two CPUs), so insertion sort is linear in practice; a
     * batch with too many inversions falls back to a general sort.
     */
    private void sortBatchByHlc() {
        long moves = 0, budget = 16L * batchSize + 64;
        for (int i = 1; i < batchSize; i++) {
            int idx = batchOrder[i];
            long key = batchHlc[idx];
            int j = i - 1;
            while (j >= 0 && Long.compareUnsigned(batchHlc[batchOrder[j]], key) > 0) {
                batchOrder[j + 1] = batchOrder[j];
                j--;
                if (++moves > budget) {
                    batchOrder[j + 1] = idx;
                    sortBatchGenerally();
                    return;
                }
            }
            batchOrder[j + 1] = idx;
        }
    }

    private void sortBatchGenerally() {
        Integer[] boxed = new Integer[batchSize];
        for (int i = 0; i < batchSize; i++) boxed[i] = i;
        Arrays.sort(boxed, (x, y) -> Long.compareUnsigned(batchHlc[x], batchHlc[y]));
        for (int i = 0; i < batchSize; i++) batchOrder[i] = boxed[i];
    }

    private void write(String line) {
        try {
            log.append(line);
        } catch (IOException e) {
            if (logFailure == null) {
                logFailure = e;
                System.err.println("hlctrace probe: writing the event log " + config.eventLog() + " failed: " + e.getMessage());
            }
        }
    }

    private void pollLoop() {
        try {
            while (running) {
                // Drained in batches, never woken per event (poll(2) on a ring buffer is level
                // triggered: under steady traffic it would return at once and spin). The wait
                // shrinks when a drain found the buffer filling up.
                long before = ringBuffer.pending();
                ringBuffer.drain(this::onRecord);
                writeBatch();
                housekeeping();
                log.flush();
                Thread.sleep(before > ringBuffer.size() / 8 ? 2 : POLL_MS);
            }
            // drain what is left, then account for the drops once more
            ringBuffer.drain(this::onRecord);
            writeBatch();
            reportDrops();
            writeDaemonEvent(EventLogLine.KIND_STOP, "probe stopped: " + summary());
            log.flush();
        } catch (IOException e) {
            System.err.println("hlctrace probe: event log " + config.eventLog() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // the programs stay attached and keep counting drops; say loudly that nobody reads them
            System.err.println("hlctrace probe [" + config.executor() + "]: the event log writer failed, events are no longer written: " + e);
            e.printStackTrace();
        } finally {
            stopped.countDown();
        }
    }

    private void housekeeping() {
        long now = System.nanoTime();
        if (now - lastRefreshNanos < 1_000_000_000L) return;
        lastRefreshNanos = now;
        // an NTP daemon may change the kernel's TAI offset while we run
        state.set(ExecutorClockState.TAI_MINUS_UTC_NS, Kernel.taiMinusUtcNanos());
        reportDrops();
    }

    /** Ring-buffer drops and fail-stop withholdings, each as a drop event with its cause. */
    private void reportDrops() {
        reportRingBufferDrops();
        reportWithheld();
    }

    /**
     * Events the kernel did not stamp because the executor was unhealthy and fail_mode is refuse:
     * reported like drops (they are missing from the log), with their cause, so that nothing
     * disappears silently.
     */
    private void reportWithheld() {
        long withheld = probe.stat(ProbeStats.EVENTS_WITHHELD);
        if (withheld > reportedWithheld) {
            long delta = withheld - reportedWithheld;
            reportedWithheld = withheld;
            write(daemonLine(EventLogLine.KIND_DROP).num(EventLogLine.DROPPED, delta).str(EventLogLine.CAUSE, EventLogLine.CAUSE_FAIL_STOP)
                    .str(EventLogLine.INFO, "not stamped: the executor was unhealthy (clock sync fail-stop) and fail_mode is refuse; "
                            + probe.stat(ProbeStats.OPTIONS_WITHHELD) + " segments went without the option so far").end());
            System.err.println("hlctrace probe [" + config.executor() + "]: " + delta + " messages not stamped while unhealthy (fail_mode refuse), " + withheld + " in total");
        }
    }

    private void reportRingBufferDrops() {
        long drops = probe.stat(ProbeStats.RINGBUF_DROPS);
        if (drops > reportedDrops) {
            long delta = drops - reportedDrops;
            reportedDrops = drops;
            write(daemonLine(EventLogLine.KIND_DROP).num(EventLogLine.DROPPED, delta).str(EventLogLine.CAUSE, EventLogLine.CAUSE_RING_BUFFER_FULL)
                    .str(EventLogLine.INFO, "the ring buffer was full; raise ring_buffer_kib").end());
            System.err.println("hlctrace probe: " + delta + " events dropped (ring buffer full), " + drops + " in total");
        }
    }

    private synchronized void writeDaemonEvent(String kind, String info) {
        write(daemonLine(kind).str(EventLogLine.INFO, info).end());
    }

    /**
     * The common head of the daemon's own events (start, stop, drop). They are stamped even while
     * fail-stopped, since a report of what was lost must not be lost itself, and then say
     * "unhealthy".
     */
    private EventLogLine daemonLine(String kind) {
        boolean unhealthy = state.unhealthy();
        EventLogLine line = new EventLogLine(lineBuffer).hlc(clock.now()).str(EventLogLine.NODE, config.executor())
                .str(EventLogLine.PROC, selfProc).num(EventLogLine.SEQ, seqByProc.merge(selfProc, 1L, Long::sum))
                .str(EventLogLine.KIND, kind).num(EventLogLine.PT, clock.physicalNanos())
                .str(EventLogLine.SRC, EventLogLine.SRC_PROBE);
        if (unhealthy) line.bool(EventLogLine.UNHEALTHY, true);
        return line;
    }

    private void info(String message) {
        System.err.println("hlctrace probe [" + config.executor() + "]: " + message);
    }

    /** Counters for the daemon's output and the tests. */
    public String summary() {
        if (!running && finalSummary != null) return finalSummary;
        return summaryNow();
    }

    private String summaryNow() {
        return "events " + probe.stat(ProbeStats.EVENTS) + ", dropped " + probe.stat(ProbeStats.RINGBUF_DROPS)
                + ", options written " + probe.stat(ProbeStats.OPTIONS_WRITTEN) + ", merged " + probe.stat(ProbeStats.OPTIONS_MERGED)
                + ", refused " + probe.stat(ProbeStats.OPTIONS_REFUSED) + ", ticks after lost CAS races " + probe.stat(ProbeStats.CAS_EXHAUSTED)
                + ", withheld while unhealthy (fail_mode " + config.failMode().yamlName() + "): events " + probe.stat(ProbeStats.EVENTS_WITHHELD)
                + ", options " + probe.stat(ProbeStats.OPTIONS_WITHHELD) + ", options deferred " + probe.stat(ProbeStats.OPTIONS_DEFERRED);
    }

    public BpfProbe probe() { return probe; }

    public ExecutorClockState clockState() { return state; }

    /** The executor clock as a HybridLogicalClock over the shared map word. */
    public HybridLogicalClock clock() { return clock; }

    public ProbeConfig config() { return config; }

    /** Waits until the daemon has stopped (SIGTERM runs close() from the shutdown hook). */
    public boolean awaitStop(long timeout, TimeUnit unit) throws InterruptedException {
        return stopped.await(timeout, unit);
    }

    /** Events written to the log so far (ring buffer records; the log is flushed every 100 ms). */
    public long eventsWritten() { return events; }

    @Override
    public void close() {
        if (!running) return;
        if (docker != null) docker.close();
        // nothing is stamped after the poller's last drain
        probe.detachPrograms();
        running = false;
        try {
            if (!stopped.await(5, TimeUnit.SECONDS)) System.err.println("hlctrace probe: the ring buffer poller did not stop in 5 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (clockSocket != null) clockSocket.close();
        if (sync != null) sync.close();
        finalSummary = summaryNow();
        ringBuffer.close();
        probe.close();
        try {
            log.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the event log " + config.eventLog(), e);
        } finally {
            releaseLock();
        }
    }

    private void releaseLock() {
        try {
            if (lock != null) lock.release();
            lockChannel.close();
        } catch (IOException ignored) {
            // the lock dies with the process anyway
        }
    }

}
