package io.hlctrace.probe;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HlcTimestamp;

/**
 * {@code hlctrace probe --config probe.yml}: runs one executor's probe daemon until SIGTERM.
 * {@code hlctrace probe status [--config probe.yml | --executor ID]}: prints the executor clock record.
 */
public final class ProbeMain {
    private ProbeMain() {}

    public static void main(String[] args) {
        int i = 0;
        if (args.length > 0 && args[0].equals("probe")) i++;
        try {
            if (i < args.length && args[i].equals("status")) {
                System.exit(status(args, i + 1));
            }
            Path config = null;
            for (; i < args.length; i++) {
                switch (args[i]) {
                    case "--config", "-c" -> config = Path.of(value(args, ++i, "--config"));
                    case "--help", "-h" -> { usage(); return; }
                    default -> throw new ProbeException("unknown argument '" + args[i] + "'", "usage: hlctrace probe --config probe.yml | hlctrace probe status");
                }
            }
            if (config == null) throw new ProbeException("no configuration given", "usage: hlctrace probe --config probe.yml (docs/kernel-probe.md has an example)");
            run(ProbeConfig.load(config));
        } catch (ProbeException e) {
            System.err.println("hlctrace probe: " + e.describe());
            System.exit(1);
        } catch (java.io.IOException e) {
            System.err.println("hlctrace probe: cannot read the configuration: " + e.getMessage());
            System.exit(1);
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) throw new ProbeException(flag + " needs a value", "");
        return args[i];
    }

    private static void usage() {
        System.out.println("usage: hlctrace probe --config probe.yml       run the probe daemon of one executor (root)");
        System.out.println("       hlctrace probe status [--config probe.yml | --executor ID]");
    }

    private static void run(ProbeConfig config) {
        ProbeDaemon daemon = ProbeDaemon.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            daemon.close();
            System.err.println("hlctrace probe [" + config.executor() + "]: detached; " + daemon.summary());
        }, "hlctrace-probe-shutdown"));
        System.err.println("hlctrace probe [" + config.executor() + "]: running; clock pinned at " + daemon.probe().clockPin()
                + ", cgroups " + daemon.probe().attachedCgroups()
                + (daemon.probe().optionOnlyCgroups().isEmpty() ? "" : ", option-only cgroups " + daemon.probe().optionOnlyCgroups())
                + ", fail_mode " + config.failMode().yamlName() + ", event log " + config.eventLog()
                + (config.clockSocket() == null ? "" : ", clock socket " + config.clockSocket()));
        try {
            long lastLost = 0;
            while (!daemon.awaitStop(10, TimeUnit.SECONDS)) {
                long lost = daemon.probe().stat(ProbeStats.RINGBUF_DROPS) + daemon.probe().stat(ProbeStats.EVENTS_WITHHELD);
                if (lost != lastLost) System.err.println("hlctrace probe [" + config.executor() + "]: " + daemon.summary());
                lastLost = lost;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int status(String[] args, int i) {
        String executor = null;
        Path pinRoot = ProbeConfig.DEFAULT_PIN_ROOT;
        ProbeConfig config = null;
        for (; i < args.length; i++) {
            switch (args[i]) {
                case "--config", "-c" -> {
                    try {
                        config = ProbeConfig.load(Path.of(value(args, ++i, "--config")));
                        executor = config.executor();
                        pinRoot = config.pinRoot();
                    } catch (java.io.IOException e) {
                        throw new ProbeException("cannot read the configuration: " + e.getMessage(), "");
                    }
                }
                case "--executor", "-e" -> executor = value(args, ++i, "--executor");
                default -> throw new ProbeException("unknown argument '" + args[i] + "'", "usage: hlctrace probe status [--config probe.yml | --executor ID]");
            }
        }
        if (executor == null) throw new ProbeException("status needs the executor", "give --config probe.yml or --executor ID");
        Kernel.requireRoot();
        Path pin = pinRoot.resolve(executor).resolve("clock");
        int fd = Libbpf.INSTANCE.bpf_obj_get(pin.toString());
        if (fd < 0) throw new ProbeException("no executor clock pinned at " + pin + ": " + LibC.INSTANCE.strerror(Native.getLastError()), "start the probe daemon of executor " + executor);
        Pointer p = LibC.INSTANCE.mmap(null, 4096, LibC.PROT_READ, LibC.MAP_SHARED, fd, 0);
        if (p == null || Pointer.nativeValue(p) == -1L) throw BpfProbe.refusal("mmap " + pin, Native.getLastError());
        try {
            ExecutorClockState s = new ExecutorClockState(p.getByteBuffer(0, 64), 0);
            long hlc = s.get(ExecutorClockState.HLC);
            System.out.println("executor        " + executor + " (clock " + pin + ")");
            System.out.println("hlc             " + HlcTimestamp.toHex(hlc) + "  " + HlcTimestamp.toSortableString(hlc));
            System.out.println("offset          " + Duration.ofNanos(s.get(ExecutorClockState.OFFSET_NS)));
            System.out.println("drift           " + s.get(ExecutorClockState.DRIFT_PPB) + " ppb");
            System.out.println("tai-utc         " + Duration.ofNanos(s.get(ExecutorClockState.TAI_MINUS_UTC_NS)));
            System.out.println("max offset      " + Duration.ofNanos(s.get(ExecutorClockState.MAX_OFFSET_NS)));
            System.out.println("sync error      " + Duration.ofNanos(s.get(ExecutorClockState.SYNC_ERROR_NS)));
            System.out.println("health          " + (s.unhealthy() ? "UNHEALTHY (clock sync failed: fail-stop)" : "ok"));
            int rc = s.unhealthy() ? 3 : 0;
            if (config != null && config.sync() != null) {
                var sync = ProbeDaemon.syncConfig(config);
                Path statusFile = sync.statusFile().orElse(ProbeDaemon.syncStatusFile(config));
                System.out.println();
                int syncRc = io.hlctrace.sync.StatusCommand.run(new String[] {"--status", statusFile.toString()}, System.out, System.err);
                if (syncRc != 0 && rc == 0) rc = syncRc;
            } else {
                System.out.println("clock sync      not configured (no sync: section in probe.yml" + (config == null ? ", or give --config" : "") + ")");
            }
            return rc;
        } finally {
            LibC.INSTANCE.munmap(p, 4096);
            LibC.INSTANCE.close(fd);
        }
    }
}
