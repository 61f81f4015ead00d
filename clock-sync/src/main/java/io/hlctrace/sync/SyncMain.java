package io.hlctrace.sync;

import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.PhysicalClock;
import io.hlctrace.hlc.SystemPhysicalClock;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Runs one executor's clock-sync daemon against an {@link ExecutorClockFile}, for hosts without the
 * kernel probe and for the tests (one process per network namespace).
 *
 * <pre>
 * SyncMain [--config sync.yml] [--clock /dev/shm/hlctrace/clock] [options]   run the daemon
 * SyncMain status [--status FILE] [--clock FILE] [--json]                    print the status
 * </pre>
 *
 * Options override the YAML: {@code --id A --bind HOST:PORT --peer ID=HOST:PORT (repeat) --heartbeat 100ms
 * --monitor-interval 500ms --max-offset 250ms --max-drift-ppm 15 --correct true|false
 * --fail-mode mark-unhealthy|refuse --hmac-key KEY --status-file FILE}; and, for simulations,
 * {@code --skew 2h|-2h|350ms --drift-ppm 50} (sets the simulated skew in the clock record at start),
 * {@code --events FILE --event-every 50ms} (a stamper writing a local event each period, honouring
 * the fail mode), {@code --run-for 30s}.
 */
public final class SyncMain {
    private SyncMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("status")) {
            String[] rest = new String[args.length - 1];
            System.arraycopy(args, 1, rest, 0, rest.length);
            System.exit(StatusCommand.run(rest, System.out, System.err));
        }
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException e) {
            System.err.println("hlctrace sync: " + e.getMessage());
            System.exit(2);
        }
    }

    static int run(String[] args) throws Exception {
        Map<String, Object> section = new LinkedHashMap<>();
        List<String> cliPeers = new ArrayList<>();
        Path clockPath = Path.of("/dev/shm/hlctrace/clock");
        Long skewNs = null;
        double driftPpm = 0;
        Path events = null;
        Duration eventEvery = Duration.ofMillis(50);
        Duration runFor = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help" -> {
                    System.out.println(usage());
                    return 0;
                }
                case "--config" -> {
                    Path f = Path.of(value(args, ++i, a));
                    Map<String, Object> yaml = loadYaml(f);
                    Object s = yaml.containsKey("sync") ? yaml.get("sync") : yaml;
                    if (!(s instanceof Map<?, ?>)) throw new IllegalArgumentException(f + ": sync: must be a mapping");
                    @SuppressWarnings("unchecked") Map<String, Object> sm = (Map<String, Object>) s;
                    section.putAll(sm);
                    if (yaml.containsKey("sync") && yaml.get("clock") != null) clockPath = Path.of(yaml.get("clock").toString());
                }
                case "--clock" -> clockPath = Path.of(value(args, ++i, a));
                case "--skew" -> skewNs = signedDuration(value(args, ++i, a), a);
                case "--drift-ppm" -> driftPpm = Double.parseDouble(value(args, ++i, a));
                case "--events" -> events = Path.of(value(args, ++i, a));
                case "--event-every" -> eventEvery = SyncConfig.duration(value(args, ++i, a), a);
                case "--run-for" -> runFor = SyncConfig.duration(value(args, ++i, a), a);
                case "--peer" -> cliPeers.add(value(args, ++i, a));
                case "--id", "--bind", "--heartbeat", "--monitor-interval", "--max-offset", "--max-drift-ppm", "--startup-grace", "--correct",
                        "--fail-mode", "--hmac-key", "--status-file" -> section.put(a.substring(2), value(args, ++i, a));
                default -> throw new IllegalArgumentException("unknown argument \"" + a + "\"\n" + usage());
            }
        }
        if (section.containsKey("id")) section.put("executor", section.remove("id"));
        if (!cliPeers.isEmpty()) section.put("peers", cliPeers);
        if (!section.containsKey("status-file") && !section.containsKey("statusFile")) {
            // beside the clock file: /dev/shm/hlctrace/clock -> sync-status.json (where `status` looks), x.clock -> x.clock.sync-status.json
            String name = clockPath.getFileName().toString();
            section.put("status-file", clockPath.toAbsolutePath().resolveSibling(name.equals("clock") ? "sync-status.json" : name + ".sync-status.json").toString());
        }
        SyncConfig config = SyncConfig.fromMap(section, "sync");

        ExecutorClockFile clockFile = ExecutorClockFile.openOrCreate(clockPath);
        ExecutorClockState state = clockFile.state();
        PhysicalClock base = SystemPhysicalClock.INSTANCE;
        if (skewNs != null) state.setSkew(skewNs, Math.round(driftPpm * 1000), base.nanos());
        // as the executor's owner, the daemon also arms the HLC max-offset guard with the same bound
        state.set(ExecutorClockState.MAX_OFFSET_NS, config.maxOffset().toNanos());

        ClockSyncService service = new ClockSyncService(config, state, base);
        EventStamper stamper = events == null ? null
                : new EventStamper(events, config, state, base, eventEvery);
        CountDownLatch stop = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            shutdown(service, stamper);
        }, "hlctrace-sync-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        service.start();
        if (stamper != null) stamper.start();
        System.out.println("hlctrace sync: executor " + config.executorId() + " running on UDP " + config.bind().getHostString() + ":"
                + service.port() + ", clock " + clockPath + ", status " + config.statusFile().map(Path::toString).orElse("-"));
        System.out.flush();
        if (runFor == null) {
            stop.await();
            return 0; // the shutdown hook closes everything
        }
        if (!stop.await(runFor.toNanos(), TimeUnit.NANOSECONDS)) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException exiting) {
                return 0; // the hook is already running
            }
            shutdown(service, stamper);
        }
        return 0;
    }

    private static synchronized void shutdown(ClockSyncService service, EventStamper stamper) {
        if (stamper != null) stamper.close();
        service.close();
    }

    private static Map<String, Object> loadYaml(Path f) throws IOException {
        try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            Object o = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (!(o instanceof Map<?, ?>)) throw new IllegalArgumentException(f + ": expected a YAML mapping with a sync: section");
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) o;
            return m;
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new IllegalArgumentException(f + ": not valid YAML: " + e.getMessage());
        }
    }

    private static long signedDuration(String s, String where) {
        String t = s.strip();
        boolean neg = t.startsWith("-");
        long ns = SyncConfig.duration(neg || t.startsWith("+") ? t.substring(1) : t, where).toNanos();
        return neg ? -ns : ns;
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) throw new IllegalArgumentException(opt + " needs a value");
        return args[i];
    }

    static String usage() {
        return """
                usage: SyncMain [--config sync.yml] [--clock CLOCK_FILE] [options]     run one executor's clock-sync daemon
                       SyncMain status [--status FILE] [--clock CLOCK_FILE] [--json]   print a daemon's status
                options (override the YAML's sync: section):
                  --id ID  --bind HOST:PORT  --peer ID=HOST:PORT (repeat)  --heartbeat 100ms  --monitor-interval 500ms
                  --max-offset 250ms  --max-drift-ppm 15  --startup-grace 5s  --correct true|false  --fail-mode mark-unhealthy|refuse
                  --hmac-key KEY (hex:..., base64:... or text)  --status-file FILE
                simulation:
                  --skew -2h  --drift-ppm 50      set the clock record's simulated skew at start
                  --events FILE --event-every 50ms  stamp a local event each period (honours the fail mode)
                  --run-for 30s                     stop after this long""";
    }

    /**
     * A stand-in for an executor's stampers: it stamps a {@code local} event each period with an HLC
     * over the executor clock record, so a test can see what fail-stop does to events. In
     * mark-unhealthy mode events stamped while the flag is set carry {@code "unhealthy": true}; in
     * refuse mode they wait (in order, bounded, overflow counted in a {@code drop} event) and are
     * stamped when the executor is healthy again. Every line is flushed, so nothing written is lost.
     */
    static final class EventStamper implements AutoCloseable {
        private static final int MAX_WAITING = 100_000;
        private final BufferedWriter out;
        private final SyncConfig config;
        private final ExecutorClockState state;
        private final HybridLogicalClock hlc;
        private final PhysicalClock executorClock;
        private final Duration every;
        private final String proc = "clock-sync:" + ProcessHandle.current().pid();
        private final List<Long> waiting = new ArrayList<>();
        private long dropped;
        private long seq;
        private long ticks;
        private Thread thread;
        private volatile boolean running;

        EventStamper(Path file, SyncConfig config, ExecutorClockState state, PhysicalClock base, Duration every) throws IOException {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            this.config = config;
            this.state = state;
            this.executorClock = state.physicalClock(base);
            this.hlc = new HybridLogicalClock(state.hlcCell(), executorClock, config.maxOffset());
            this.every = every;
        }

        void start() throws IOException {
            write(EventLogLine.KIND_START, "clock-sync test stamper, fail mode " + config.failMode().yamlName(), -1);
            running = true;
            thread = new Thread(this::loop, "hlctrace-sync-stamper");
            thread.setDaemon(true);
            thread.start();
        }

        private void loop() {
            long next = System.nanoTime();
            while (running) {
                next += every.toNanos();
                try {
                    tick();
                } catch (IOException e) {
                    System.err.println("hlctrace sync: cannot write the event log: " + e.getMessage());
                    return;
                }
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    try {
                        TimeUnit.NANOSECONDS.sleep(sleep);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }

        private synchronized void tick() throws IOException {
            if (!running) return;
            ticks++;
            boolean unhealthy = state.unhealthy();
            if (unhealthy && config.failMode() == SyncConfig.FailMode.REFUSE) {
                if (waiting.size() < MAX_WAITING) waiting.add(ticks);
                else dropped++;
                return;
            }
            flushWaiting();
            write(EventLogLine.KIND_LOCAL, "tick " + ticks, ticks);
        }

        private void flushWaiting() throws IOException {
            if (dropped > 0) {
                seq++;
                long ts = hlc.now();
                out.write(new EventLogLine().hlc(ts).str(EventLogLine.NODE, config.executorId()).str(EventLogLine.PROC, proc)
                        .num(EventLogLine.SEQ, seq).str(EventLogLine.KIND, EventLogLine.KIND_DROP).num(EventLogLine.PT, executorClock.nanos())
                        .str(EventLogLine.SRC, EventLogLine.SRC_PROBE).num(EventLogLine.DROPPED, dropped).end());
                out.newLine();
                dropped = 0;
            }
            for (long t : waiting) write(EventLogLine.KIND_LOCAL, "tick " + t + " (deferred: refused while the clock was unhealthy)", t);
            waiting.clear();
            out.flush();
        }

        private void write(String kind, String info, long tick) throws IOException {
            seq++;
            long ts = hlc.now();
            EventLogLine line = new EventLogLine().hlc(ts).str(EventLogLine.NODE, config.executorId()).str(EventLogLine.PROC, proc)
                    .num(EventLogLine.SEQ, seq).str(EventLogLine.KIND, kind).num(EventLogLine.PT, executorClock.nanos())
                    .str(EventLogLine.SRC, EventLogLine.SRC_PROBE);
            if (state.unhealthy()) line.bool(EventLogLine.UNHEALTHY, true);
            line.str(EventLogLine.INFO, info);
            out.write(line.end());
            out.newLine();
            out.flush();
        }

        @Override
        public synchronized void close() {
            running = false;
            if (thread != null) thread.interrupt();
            try {
                // events still waiting in refuse mode are written at stop, marked unhealthy: never lost
                flushWaiting();
                write(EventLogLine.KIND_STOP, "stopped after " + ticks + " ticks", -1);
                out.close();
            } catch (IOException e) {
                System.err.println("hlctrace sync: cannot finish the event log: " + e.getMessage());
            }
        }
    }
}
