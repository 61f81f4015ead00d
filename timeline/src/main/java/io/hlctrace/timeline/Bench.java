package io.hlctrace.timeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The timeline benchmark (scripts/bench-timeline.sh): merge + verify throughput against the
 * parse-only floor, on the same files in the same run. Usage:
 * {@code Bench [--events N] [--nodes N] [--procs N] [--rounds N] [--dir DIR] [LOG...]};
 * without logs it writes synthetic ones first.
 */
public final class Bench {
    private Bench() {}

    public static void main(String[] args) throws IOException {
        long events = 5_000_000;
        int nodes = 4, procs = 4, rounds = 5;
        Path dir = null;
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--events" -> events = Long.parseLong(args[++i]);
                case "--nodes" -> nodes = Integer.parseInt(args[++i]);
                case "--procs" -> procs = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                default -> logs.add(Path.of(args[i]));
            }
        }
        boolean generated = logs.isEmpty();
        if (generated) {
            if (dir == null) dir = Files.createTempDirectory("hlctrace-bench-timeline");
            long t = System.nanoTime();
            logs = SyntheticLogs.write(dir, nodes, procs, events, 1);
            System.out.printf(Locale.ROOT, "wrote %,d events in %d files (%,d bytes) in %.1f s%n", events, logs.size(), size(logs), (System.nanoTime() - t) / 1e9);
        }
        // Rates are events per second of CPU time of this JVM (process CPU time: the parsing thread, GC and
        // JIT together), which on a shared machine is what "one core" means; wall-clock rates are printed too.
        double[] parse = new double[rounds], mergeVerify = new double[rounds], parseWall = new double[rounds], mvWall = new double[rounds];
        long n = 0;
        // alternate the two, so both see the same page cache and JIT state; the first round warms up
        for (int r = -1; r < rounds; r++) {
            long c = cpu(), t = System.nanoTime();
            long parsed = parseOnly(logs);
            double parseCpu = (cpu() - c) / 1e9, parseSeconds = (System.nanoTime() - t) / 1e9;
            c = cpu();
            t = System.nanoTime();
            Verify.Result res = mergeAndVerify(logs);
            double mvCpu = (cpu() - c) / 1e9, mvSeconds = (System.nanoTime() - t) / 1e9;
            if (res.events() != parsed) throw new IllegalStateException("merge+verify saw " + res.events() + " events, parse " + parsed);
            if (!res.consistent()) throw new IllegalStateException("synthetic logs must verify: " + res.violationCount());
            n = parsed;
            if (r >= 0) {
                parse[r] = parsed / parseCpu;
                mergeVerify[r] = parsed / mvCpu;
                parseWall[r] = parsed / parseSeconds;
                mvWall[r] = parsed / mvSeconds;
            }
            System.out.printf(Locale.ROOT, "%s: parse-only %,.0f events/s (wall %,.0f), merge+verify %,.0f events/s (wall %,.0f)%n",
                    r < 0 ? "warm-up" : "round " + (r + 1), parsed / parseCpu, parsed / parseSeconds, parsed / mvCpu, parsed / mvSeconds);
        }
        double p = median(parse), mv = median(mergeVerify);
        double[] ratios = new double[rounds];
        for (int r = 0; r < rounds; r++) ratios[r] = parse[r] / mergeVerify[r];
        System.out.printf(Locale.ROOT, "%nevents: %,d in %d files%n", n, logs.size());
        System.out.printf(Locale.ROOT, "parse-only floor   : %,.0f events/s per CPU second (median of %d; wall clock %,.0f)%n", p, rounds, median(parseWall));
        System.out.printf(Locale.ROOT, "merge + verify     : %,.0f events/s per CPU second (median of %d; wall clock %,.0f)%n", mv, rounds, median(mvWall));
        System.out.printf(Locale.ROOT, "merge+verify time / parse-only time = %.2fx (median of the per-round ratios; goal <= 2x)%n", median(ratios));
        System.out.printf(Locale.ROOT, "goal >= 1,000,000 events/s merge + verify on one core: %s%n", mv >= 1_000_000 ? "met" : "NOT met");
        if (generated) {
            for (Path f : logs) Files.deleteIfExists(f);
        }
    }

    static long parseOnly(List<Path> logs) throws IOException {
        long n = 0;
        StringTable strings = new StringTable();
        Diagnostics d = new Diagnostics();
        for (Path f : logs) {
            try (EventLogReader r = new EventLogReader(f, f.toString(), d, strings)) {
                while (r.next() != null) n++;
            }
        }
        return n;
    }

    static Verify.Result mergeAndVerify(List<Path> logs) throws IOException {
        Diagnostics d = new Diagnostics();
        try (MergedEvents m = EventLogs.merge(logs, d)) {
            Verify.Verifier v = Verify.streaming(ClockKind.HLC, d);
            for (Event e; (e = m.next()) != null; ) v.accept(e);
            return v.finish();
        }
    }

    private static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long size(List<Path> files) throws IOException {
        long s = 0;
        for (Path f : files) s += Files.size(f);
        return s;
    }

    private static double median(double[] x) {
        double[] c = x.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
