package io.hlctrace.demo.scalemodel;

import io.hlctrace.demo.plot.SvgChart;
import io.hlctrace.hlc.HlcTimestamp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the notebook looked at, computed from the three machine logs: Lamport jumps per machine,
 * queue lengths, how far each machine's logical clock lags the leading one (drift), and the HLC
 * beside it, as a markdown table and SVG plots.
 */
public final class ScaleModelAnalysis {
    /** One logged tick of one machine. */
    public record Row(long sysNanos, int tick, String action, long lamport, long hlc, int queue, String from) {
        boolean isReceive() { return action.equals("recv"); }
    }

    /** Per-machine figures. A jump is a Lamport increase of more than one on a tick. */
    public record MachineStats(String name, int rate, int ticks, int receives, int sends, int internals,
                               int jumps, double meanJumpPerReceive, long maxJump,
                               double meanQueue, int maxQueue, int finalQueue, long finalLamport,
                               double meanLagBehindLeader, long finalLagBehindLeader,
                               double maxHlcAheadOfSystemMillis, int maxHlcCounter) {}

    private final ScaleModelConfig config;
    private final List<MachineStats> machines;
    private final Path markdownFile;
    private final List<Path> plots;
    private final String table;

    private ScaleModelAnalysis(ScaleModelConfig config, List<MachineStats> machines, Path markdownFile, List<Path> plots, String table) {
        this.config = config;
        this.machines = machines;
        this.markdownFile = markdownFile;
        this.plots = plots;
        this.table = table;
    }

    public ScaleModelConfig config() { return config; }
    public List<MachineStats> machines() { return machines; }
    public Path markdownFile() { return markdownFile; }
    public List<Path> plots() { return plots; }
    public String markdownTable() { return table; }

    public MachineStats slowest() {
        return machines.stream().min((a, b) -> Integer.compare(a.rate(), b.rate())).orElseThrow();
    }

    public MachineStats fastest() {
        return machines.stream().max((a, b) -> Integer.compare(a.rate(), b.rate())).orElseThrow();
    }

    public static List<Row> readLog(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).equals(Machine.LOG_HEADER)) {
            throw new IOException(log + ":1: not a scale-model machine log (expected the header \"" + Machine.LOG_HEADER + "\")");
        }
        List<Row> rows = new ArrayList<>(lines.size());
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",", -1);
            try {
                if (f.length != 7) throw new IllegalArgumentException("expected 7 fields, got " + f.length);
                rows.add(new Row(Long.parseLong(f[0]), Integer.parseInt(f[1]), f[2], Long.parseLong(f[3]), HlcTimestamp.fromHex(f[4]), Integer.parseInt(f[5]), f[6]));
            } catch (IllegalArgumentException e) {
                throw new IOException(log + ":" + (i + 1) + ": unreadable line \"" + lines.get(i) + "\": " + e.getMessage(), e);
            }
        }
        return rows;
    }

    public static ScaleModelAnalysis analyse(ScaleModelConfig cfg, List<Path> logs) throws IOException {
        List<List<Row>> all = new ArrayList<>();
        for (Path p : logs) all.add(readLog(p));
        long start = Long.MAX_VALUE;
        for (List<Row> rows : all) if (!rows.isEmpty()) start = Math.min(start, rows.get(0).sysNanos());
        double modelSeconds = cfg.modelDuration().toNanos() / 1e9;
        // Lamport value of every machine on a common grid of model time, for the lag (drift) figures and plots
        int samples = 241;
        double[] grid = new double[samples];
        long[][] lamportAt = new long[all.size()][samples];
        for (int s = 0; s < samples; s++) grid[s] = modelSeconds * s / (samples - 1);
        for (int m = 0; m < all.size(); m++) {
            List<Row> rows = all.get(m);
            int k = 0;
            long current = 0;
            for (int s = 0; s < samples; s++) {
                while (k < rows.size() && modelTime(rows.get(k), start, cfg) <= grid[s]) current = rows.get(k++).lamport();
                lamportAt[m][s] = current;
            }
        }
        long[] leader = new long[samples];
        for (int s = 0; s < samples; s++) for (long[] l : lamportAt) leader[s] = Math.max(leader[s], l[s]);

        List<MachineStats> stats = new ArrayList<>();
        for (int m = 0; m < all.size(); m++) {
            List<Row> rows = all.get(m);
            int receives = 0, sends = 0, internals = 0, jumps = 0, maxQueue = 0, maxC = 0;
            long prev = 0, maxJump = 0, jumpSum = 0, queueSum = 0;
            double maxAhead = Double.NEGATIVE_INFINITY;
            for (Row r : rows) {
                long jump = r.lamport() - prev - 1;
                prev = r.lamport();
                if (r.isReceive()) {
                    receives++;
                    jumpSum += jump;
                } else if (r.action().equals("internal")) internals++;
                else sends++;
                if (jump > 0) jumps++;
                maxJump = Math.max(maxJump, jump);
                queueSum += r.queue();
                maxQueue = Math.max(maxQueue, r.queue());
                maxAhead = Math.max(maxAhead, (HlcTimestamp.toNanos(r.hlc()) - r.sysNanos()) / 1e6);
                maxC = Math.max(maxC, HlcTimestamp.c(r.hlc()));
            }
            double lagSum = 0;
            for (int s = 0; s < samples; s++) lagSum += leader[s] - lamportAt[m][s];
            stats.add(new MachineStats(ScaleModelConfig.machineName(m), cfg.rates()[m], rows.size(), receives, sends, internals,
                    jumps, receives == 0 ? 0 : (double) jumpSum / receives, maxJump,
                    rows.isEmpty() ? 0 : (double) queueSum / rows.size(), maxQueue, rows.isEmpty() ? 0 : rows.get(rows.size() - 1).queue(),
                    prev, lagSum / samples, leader[samples - 1] - lamportAt[m][samples - 1],
                    rows.isEmpty() ? 0 : maxAhead, maxC));
        }
        String table = table(stats);
        List<Path> plots = writePlots(cfg, all, start, grid, lamportAt, leader);
        Path md = cfg.outDir().resolve("analysis.md");
        Files.writeString(md, markdown(cfg, table, plots), StandardCharsets.UTF_8);
        return new ScaleModelAnalysis(cfg, stats, md, plots, table);
    }

    private static double modelTime(Row r, long start, ScaleModelConfig cfg) {
        return (r.sysNanos() - start) / 1e9 * cfg.timeScale();
    }

    static String table(List<MachineStats> stats) {
        StringBuilder sb = new StringBuilder();
        sb.append("| machine | rate (ticks/s) | ticks | receives | sends | internal | Lamport jumps | mean jump per receive | max jump | mean queue | max queue | final queue | final Lamport | mean lag behind leader | final lag | HLC max ahead of system clock (ms) | HLC max c |\n");
        sb.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for (MachineStats s : stats) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %d | %.2f | %d | %.2f | %d | %d | %d | %.1f | %d | %.3f | %d |%n",
                    s.name(), s.rate(), s.ticks(), s.receives(), s.sends(), s.internals(), s.jumps(), s.meanJumpPerReceive(), s.maxJump(),
                    s.meanQueue(), s.maxQueue(), s.finalQueue(), s.finalLamport(), s.meanLagBehindLeader(), s.finalLagBehindLeader(),
                    s.maxHlcAheadOfSystemMillis(), s.maxHlcCounter()));
        }
        return sb.toString();
    }

    private static List<Path> writePlots(ScaleModelConfig cfg, List<List<Row>> all, long start, double[] grid, long[][] lamportAt, long[] leader) throws IOException {
        String suffix = String.format(Locale.ROOT, " (rates %d/%d/%d, internal p=%.2f)", cfg.rates()[0], cfg.rates()[1], cfg.rates()[2], cfg.internalProbability());
        SvgChart lamport = new SvgChart("Lamport clock per machine" + suffix, "model time (s)", "Lamport clock");
        SvgChart lag = new SvgChart("Lag behind the leading Lamport clock" + suffix, "model time (s)", "leader - own Lamport");
        SvgChart queue = new SvgChart("Message queue length" + suffix, "model time (s)", "messages waiting");
        SvgChart jumps = new SvgChart("Lamport jump on each receive" + suffix, "model time (s)", "jump (ticks skipped)");
        SvgChart hlc = new SvgChart("HLC minus system time" + suffix, "model time (s)", "milliseconds");
        for (int m = 0; m < all.size(); m++) {
            String name = "machine " + ScaleModelConfig.machineName(m) + " (" + cfg.rates()[m] + "/s)";
            String color = SvgChart.PALETTE[m % SvgChart.PALETTE.length];
            List<Row> rows = all.get(m);
            double[] t = new double[rows.size()], q = new double[rows.size()], h = new double[rows.size()];
            List<double[]> jumpPts = new ArrayList<>();
            long prev = 0;
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                t[i] = modelTime(r, start, cfg);
                q[i] = r.queue();
                h[i] = (HlcTimestamp.toNanos(r.hlc()) - r.sysNanos()) / 1e6;
                if (r.isReceive()) jumpPts.add(new double[]{t[i], r.lamport() - prev - 1});
                prev = r.lamport();
            }
            double[] l = new double[grid.length], g = new double[grid.length];
            for (int s = 0; s < grid.length; s++) {
                l[s] = lamportAt[m][s];
                g[s] = leader[s] - lamportAt[m][s];
            }
            lamport.add(new SvgChart.Series(name, color, grid, l));
            lag.add(new SvgChart.Series(name, color, grid, g));
            queue.add(new SvgChart.Series(name, color, t, q));
            hlc.add(new SvgChart.Series(name, color, t, h));
            jumps.add(new SvgChart.Series(name, color, jumpPts.stream().mapToDouble(p -> p[0]).toArray(), jumpPts.stream().mapToDouble(p -> p[1]).toArray()));
        }
        List<Path> out = new ArrayList<>();
        for (var e : List.of(java.util.Map.entry("lamport.svg", lamport), java.util.Map.entry("lag.svg", lag),
                java.util.Map.entry("queue.svg", queue), java.util.Map.entry("jumps.svg", jumps), java.util.Map.entry("hlc.svg", hlc))) {
            Path p = cfg.outDir().resolve(e.getKey());
            Files.writeString(p, e.getValue().render(), StandardCharsets.UTF_8);
            out.add(p);
        }
        return out;
    }

    private static String markdown(ScaleModelConfig cfg, String table, List<Path> plots) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Logical-clock scale model\n\n");
        sb.append(String.format(Locale.ROOT, "Three machines (separate JVMs on loopback TCP), clock rates %d, %d, %d ticks/s, internal-event probability %.2f, "
                        + "%.1f s of model time at time scale %s, seed %d. Each tick takes one message from the queue if there is one; "
                        + "otherwise the machine sends to one peer, to both, or does an internal event.%n%n",
                cfg.rates()[0], cfg.rates()[1], cfg.rates()[2], cfg.internalProbability(), cfg.modelDuration().toNanos() / 1e9, cfg.timeScale(), cfg.seed()));
        sb.append("A *jump* is a Lamport increase of more than one on a tick (the receive of a message from a machine whose clock is ahead). ");
        sb.append("*Lag behind leader* is how far a machine's Lamport clock is behind the highest of the three at the same moment (the logical drift between machines), averaged over the run. ");
        sb.append("The HLC columns show the hybrid clock beside it: its physical part follows the (shared) system clock, so it never runs away from real time however many messages arrive.\n\n");
        sb.append(table).append('\n');
        for (Path p : plots) sb.append("![").append(p.getFileName()).append("](").append(p.getFileName()).append(")\n\n");
        sb.append("The logs are machine-A.csv, machine-B.csv, machine-C.csv (system time in ns, tick, action, Lamport, HLC, queue length, sender).\n");
        return sb.toString();
    }
}
