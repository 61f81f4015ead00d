package io.hlctrace.demo.scalemodel;

import io.hlctrace.demo.ChildJvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code hlctrace demo scale-model}: the logical-clock scale model of the notebook in
 * shared/seeds/001: three machines, each its own JVM, connected over loopback TCP, then an analysis.
 */
public final class ScaleModel {
    private ScaleModel() {}

    public static void main(List<String> args) throws Exception {
        ScaleModelConfig cfg;
        try {
            cfg = ScaleModelConfig.parse(args);
        } catch (ScaleModelConfig.UsageException e) {
            if (e.help()) {
                System.out.print(e.getMessage());
                return;
            }
            System.err.println("hlctrace demo scale-model: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.printf(Locale.ROOT, "scale model: rates %d,%d,%d ticks/s, internal-event probability %.2f, %s of model time at time scale %s (seed %d)%n",
                cfg.rates()[0], cfg.rates()[1], cfg.rates()[2], cfg.internalProbability(), cfg.modelDuration(), cfg.timeScale(), cfg.seed());
        ScaleModelAnalysis a = run(cfg);
        System.out.println();
        System.out.println(a.markdownTable());
        System.out.println("analysis: " + a.markdownFile().toAbsolutePath());
        for (Path p : a.plots()) System.out.println("plot:     " + p.toAbsolutePath());
    }

    /** Runs the three machines and analyses their logs. */
    public static ScaleModelAnalysis run(ScaleModelConfig cfg) throws IOException, InterruptedException {
        Files.createDirectories(cfg.outDir());
        List<ChildJvm> machines = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        long wallMillis = Math.max(1, cfg.wallDuration().toMillis());
        try {
            for (int i = 0; i < ScaleModelConfig.MACHINES; i++) {
                String name = ScaleModelConfig.machineName(i);
                Path log = cfg.outDir().resolve("machine-" + name + ".csv");
                logs.add(log);
                machines.add(ChildJvm.start("machine " + name, List.of(), Machine.class.getName(), List.of(
                        "--id", Integer.toString(i), "--rate", Integer.toString(cfg.rates()[i]),
                        "--time-scale", Double.toString(cfg.timeScale()), "--internal-prob", Double.toString(cfg.internalProbability()),
                        "--seed", Long.toString(cfg.seed()), "--wall-millis", Long.toString(wallMillis), "--log", log.toString()),
                        cfg.outDir().resolve("machine-" + name + ".stderr")));
            }
            int[] ports = new int[ScaleModelConfig.MACHINES];
            for (int i = 0; i < machines.size(); i++) ports[i] = Integer.parseInt(machines.get(i).expect("LISTEN ", Duration.ofSeconds(30)));
            for (int i = 0; i < machines.size(); i++) {
                StringBuilder peers = new StringBuilder();
                for (int j = 0; j < machines.size(); j++) {
                    if (j == i) continue;
                    if (peers.length() > 0) peers.append(',');
                    peers.append(j).append(':').append(ports[j]);
                }
                machines.get(i).send("PEERS " + peers);
            }
            for (ChildJvm m : machines) m.expect("READY", Duration.ofSeconds(30));
            // one common start a little in the future, on the host clock all three share
            long start = System.currentTimeMillis() + 300;
            for (ChildJvm m : machines) m.send("START " + start);
            for (ChildJvm m : machines) m.expect("DONE ", Duration.ofMillis(wallMillis + 20_000));
            for (ChildJvm m : machines) m.send("EXIT");
            for (ChildJvm m : machines) {
                if (!m.waitFor(Duration.ofSeconds(10))) throw new IOException(m.name() + " did not exit after its run");
                if (m.process().exitValue() != 0) throw new IOException(m.name() + " failed with exit code " + m.process().exitValue());
            }
        } finally {
            for (ChildJvm m : machines) m.close();
        }
        return ScaleModelAnalysis.analyse(cfg, logs);
    }
}
