package io.hlctrace.demo.compare;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code hlctrace demo compare [--out DIR]}: runs the simulated comparison scenarios and writes
 * comparison.md (one table per scenario) and each scenario's event logs.
 */
public final class CompareCommand {
    private CompareCommand() {}

    public static void main(List<String> args) throws Exception {
        Path out = Path.of("compare-out");
        for (int i = 0; i + 1 < args.size(); i += 2) {
            if (args.get(i).equals("--out")) out = Path.of(args.get(i + 1));
            else {
                System.err.println("usage: hlctrace demo compare [--out DIR]");
                System.exit(2);
            }
        }
        Files.createDirectories(out);
        String md = SimulatedComparisons.markdown(out);
        Path f = out.resolve("comparison.md");
        Files.writeString(f, md);
        System.out.println(md);
        System.out.println("written: " + f.toAbsolutePath());
    }
}
