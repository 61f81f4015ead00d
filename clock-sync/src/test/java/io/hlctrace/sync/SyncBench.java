package io.hlctrace.sync;

import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.ExecutorClockState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The clock-sync benchmark (scripts/bench-sync.sh): three executors in network namespaces joined
 * by veth pairs with no injected delay, clocks initially apart by +5 ms and -3 ms, correction on.
 * After the clocks converge it samples the true offset between every pair of executors (exact,
 * since all run on one machine) and reports it against the goal (200 us) and against the baseline
 * measured in the same run: half the median round trip over the veth, the best a Cristian
 * exchange can promise; plus the probe traffic per executor.
 *
 * <pre>SyncBench [--seconds 20] [--heartbeat 100ms] [--monitor-interval 500ms] [--trace]</pre>
 */
public final class SyncBench {
    static final long GOAL_NS = 200_000;

    public static void main(String[] args) throws Exception {
        int seconds = 20;
        String heartbeat = "100ms";
        String monitor = "500ms";
        boolean trace = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--heartbeat" -> heartbeat = args[++i];
                case "--monitor-interval" -> monitor = args[++i];
                case "--trace" -> trace = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        String why = NetnsLab.unavailableReason();
        if (why != null) {
            System.err.println("bench sync: " + why + "; run it as root (sudo scripts/bench-sync.sh)");
            System.exit(2);
        }
        List<String> nodes = List.of("a", "b", "c");
        Map<String, String> skew = Map.of("a", "0ms", "b", "5ms", "c", "-3ms");
        Path dir = Files.createTempDirectory("hts-bench");
        try (NetnsLab lab = new NetnsLab(nodes, dir, false)) {
            for (String n : nodes) {
                List<String> a = new ArrayList<>(List.of("--id", n, "--bind", "0.0.0.0:" + NetnsLab.SYNC_PORT,
                        "--clock", dir.resolve(n + ".clock").toString(), "--status-file", dir.resolve(n + ".json").toString(),
                        "--heartbeat", heartbeat, "--monitor-interval", monitor, "--max-offset", "100ms", "--correct", "true",
                        "--skew", skew.get(n)));
                for (String p : nodes) if (!p.equals(n)) a.addAll(List.of("--peer", p + "=" + lab.directAddress(n, p) + ":" + NetnsLab.SYNC_PORT));
                lab.startDaemon(n, a, List.of("-Xmx64m", "-XX:+UseSerialGC"));
            }
            long initial = 8_000_000; // +5 ms against -3 ms, as set by --skew above
            System.out.printf(Locale.ROOT, "clock-sync benchmark: 3 executors over veth, no injected delay, heartbeat %s, monitor %s%n", heartbeat, monitor);
            System.out.printf(Locale.ROOT, "initial worst offset between executors: %.1f us%n", initial / 1e3);
            // warm up: JIT, first corrections; then measure
            long warm = System.nanoTime() + 8_000_000_000L;
            while (System.nanoTime() < warm) Thread.sleep(100);
            List<Long> errors = new ArrayList<>();
            List<Long> bounds = new ArrayList<>();
            List<Long> rtts = new ArrayList<>();
            Map<String, double[]> traffic = new LinkedHashMap<>();
            int unhealthy = 0;
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                long e = maxPairwise(dir, nodes);
                errors.add(e);
                if (trace) System.out.printf(Locale.ROOT, "trace: t=%.2fs worst pair %.1f us%n", (System.nanoTime() - (end - seconds * 1_000_000_000L)) / 1e9, e / 1e3);
                for (String n : nodes) {
                    SyncStatus s = SyncStatus.fromJson(Files.readString(dir.resolve(n + ".json")));
                    if (!s.healthy()) unhealthy++;
                    bounds.add(s.syncErrorNs());
                    for (SyncStatus.PeerStatus p : s.peers()) if (p.sampled()) rtts.add(p.roundTripNs());
                    traffic.put(n, new double[] {s.traffic().sentPacketsPerSecond(), s.traffic().sentBytesPerSecond(),
                            s.traffic().receivedPacketsPerSecond(), s.traffic().receivedBytesPerSecond()});
                }
                Thread.sleep(50);
            }
            long p50 = pct(errors, 50), p99 = pct(errors, 99), max = pct(errors, 100);
            long rtt = pct(rtts, 50);
            long baseline = rtt / 2;
            System.out.printf(Locale.ROOT, "samples: %d over %d s (%d unhealthy executor-snapshots)%n", errors.size(), seconds, unhealthy);
            System.out.printf(Locale.ROOT, "true offset error between executors (worst pair per sample): p50 %.1f us, p99 %.1f us, max %.1f us%n",
                    p50 / 1e3, p99 / 1e3, max / 1e3);
            System.out.printf(Locale.ROOT, "reported error bound (sync_error_ns): p50 %.1f us, max %.1f us%n", pct(bounds, 50) / 1e3, pct(bounds, 100) / 1e3);
            System.out.printf(Locale.ROOT, "baseline: median veth round trip %.1f us, so a single Cristian exchange promises +-%.1f us%n",
                    rtt / 1e3, baseline / 1e3);
            System.out.printf(Locale.ROOT, "ratios: p99/goal(200 us) = %.3f, max/goal = %.3f, p99/baseline = %.2f, p99/initial = %.4f%n",
                    p99 / (double) GOAL_NS, max / (double) GOAL_NS, p99 / (double) Math.max(1, baseline), p99 / (double) Math.max(1, initial));
            for (Map.Entry<String, double[]> e : traffic.entrySet()) {
                double[] t = e.getValue();
                System.out.printf(Locale.ROOT, "probe traffic of %s: sent %.1f packets/s (%.0f B/s), received %.1f packets/s (%.0f B/s)%n",
                        e.getKey(), t[0], t[1], t[2], t[3]);
            }
            System.out.println(max < GOAL_NS ? "GOAL MET: worst error under 200 us" : "GOAL MISSED: worst error " + max / 1e3 + " us");
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static long maxPairwise(Path dir, List<String> nodes) throws Exception {
        long[] off = new long[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            try (ExecutorClockFile f = ExecutorClockFile.openOrCreate(dir.resolve(nodes.get(i) + ".clock"))) {
                off[i] = f.state().get(ExecutorClockState.OFFSET_NS);
            }
        }
        long worst = 0;
        for (int i = 0; i < off.length; i++) for (int j = i + 1; j < off.length; j++) worst = Math.max(worst, Math.abs(off[i] - off[j]));
        return worst;
    }

    private static long pct(List<Long> v, int p) {
        if (v.isEmpty()) return 0;
        long[] a = v.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a[Math.min(a.length - 1, (int) Math.ceil(p / 100.0 * a.length) - 1 < 0 ? 0 : (int) Math.ceil(p / 100.0 * a.length) - 1)];
    }
}
