package io.hlctrace.demo.scalemodel;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Parameters of one scale-model run. Model time is the time the machines believe in: a machine of
 * rate r ticks r times per model second. {@code timeScale} speeds the whole model up (ticks and
 * duration alike) so a test can run a minute of model time in a few seconds without changing what
 * happens, only how long one waits for it.
 */
public record ScaleModelConfig(int[] rates, double internalProbability, Duration modelDuration,
                               double timeScale, long seed, Path outDir) {

    public static final int MACHINES = 3;
    public static final int MIN_RATE = 1;
    public static final int MAX_RATE = 6;

    public ScaleModelConfig {
        if (rates.length != MACHINES) throw new IllegalArgumentException("the scale model has " + MACHINES + " machines; got " + rates.length + " rates");
        for (int r : rates) {
            if (r < MIN_RATE || r > MAX_RATE) throw new IllegalArgumentException("a clock rate must be " + MIN_RATE + ".." + MAX_RATE + " ticks/s, got " + r);
        }
        if (!(internalProbability >= 0 && internalProbability <= 1)) throw new IllegalArgumentException("internal-event probability must be in [0, 1], got " + internalProbability);
        if (modelDuration.isNegative() || modelDuration.isZero()) throw new IllegalArgumentException("duration must be positive, got " + modelDuration);
        if (!(timeScale > 0 && timeScale <= 100)) throw new IllegalArgumentException("time scale must be in (0, 100], got " + timeScale);
        rates = rates.clone();
    }

    /** Wall-clock time the run takes. */
    public Duration wallDuration() {
        return Duration.ofNanos(Math.round(modelDuration.toNanos() / timeScale));
    }

    public static String machineName(int id) {
        return String.valueOf((char) ('A' + id));
    }

    /** Random rates 1..6 from the seed, as in the notebook's assignment. */
    public static int[] randomRates(long seed) {
        Random r = new Random(seed);
        int[] rates = new int[MACHINES];
        for (int i = 0; i < MACHINES; i++) rates[i] = MIN_RATE + r.nextInt(MAX_RATE - MIN_RATE + 1);
        return rates;
    }

    static final String USAGE = """
            usage: hlctrace demo scale-model [options]
              --duration SECONDS     model time to run (default 60)
              --time-scale F         run F times faster than model time (default 1)
              --rates A,B,C          clock rates in ticks/s, 1..6 each (default: random from the seed)
              --internal-prob P      probability of an internal event on a tick with an empty queue (default 0.6)
              --seed N               random seed (default: from the time; printed, so a run can be repeated)
              --out DIR              where the logs, analysis.md and the SVG plots go (default ./scale-model-out)
            """;

    public static ScaleModelConfig parse(List<String> args) {
        int[] rates = null;
        double internal = 0.6;
        Duration duration = Duration.ofSeconds(60);
        double scale = 1;
        long seed = System.nanoTime() % 1_000_000;
        Path out = Path.of("scale-model-out");
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) throw new UsageException(USAGE, true);
            if (i + 1 >= args.size()) throw new UsageException("option " + a + " needs a value\n" + USAGE);
            String v = args.get(++i);
            try {
                switch (a) {
                    case "--duration" -> duration = Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
                    case "--time-scale" -> scale = Double.parseDouble(v);
                    case "--rates" -> rates = Arrays.stream(v.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
                    case "--internal-prob" -> internal = Double.parseDouble(v);
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--out" -> out = Path.of(v);
                    default -> throw new UsageException("unknown option " + a + "\n" + USAGE);
                }
            } catch (NumberFormatException e) {
                throw new UsageException("option " + a + " wants a number, got \"" + v + "\"\n" + USAGE);
            }
        }
        if (rates == null) rates = randomRates(seed);
        try {
            return new ScaleModelConfig(rates, internal, duration, scale, seed, out);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage() + "\n" + USAGE);
        }
    }

    /** A command-line mistake: printed to the user without a stack trace. */
    public static final class UsageException extends RuntimeException {
        private final boolean help;

        public UsageException(String message) { this(message, false); }

        UsageException(String message, boolean help) {
            super(message);
            this.help = help;
        }

        /** The user asked for the usage: print it to stdout and succeed. */
        public boolean help() { return help; }
    }
}
