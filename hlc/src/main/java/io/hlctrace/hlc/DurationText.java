package io.hlctrace.hlc;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people write them in hlctrace's YAML configs and command lines: a signed number and
 * a unit, e.g. {@code 500ms}, {@code -2h}, {@code 1.5s}, {@code 250us}. A bare {@code 0} needs no
 * unit; any other bare number is refused, since a max offset of "500" is ambiguous.
 */
public final class DurationText {
    private static final Pattern DURATION = Pattern.compile("([+-]?\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s|m|min|h)?");

    private DurationText() {}

    /** Parses a duration; the exception's message says what is expected. */
    public static Duration parse(String text) {
        String t = text.strip();
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) throw new IllegalArgumentException("expected a duration such as 500ms, 1.5s, 250us or -2h, not \"" + text + "\"");
        double v = Double.parseDouble(m.group(1));
        if (m.group(2) == null) {
            if (v == 0) return Duration.ZERO;
            throw new IllegalArgumentException("\"" + text + "\" has no unit: write it with one of ns, us, ms, s, m, h (e.g. " + m.group(1) + "ms)");
        }
        double nanosPerUnit = switch (m.group(2)) {
            case "ns" -> 1;
            case "us", "µs" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            case "m", "min" -> 60e9;
            default -> 3600e9;
        };
        return Duration.ofNanos(Math.round(v * nanosPerUnit));
    }
}
