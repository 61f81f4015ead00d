package io.hlctrace.hlc;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * The one 64-bit HLC word that every part of hlctrace exchanges: agent headers, the TCP option
 * written by the BPF probe, the executor clock cell and the event logs.
 *
 * <pre>
 *  63                              32 31              16 15               0
 * +----------------------------------+------------------+------------------+
 * | l: seconds since 1970-01-01 UTC  | l: 1/65536 s     | c: logical count |
 * +----------------------------------+------------------+------------------+
 * </pre>
 *
 * <p>As in the paper (section 4.3), l is the top 48 bits of an NTP-style 64-bit time whose 32 high
 * bits are seconds and 32 low bits a binary fraction, here counted from the Unix epoch; one unit of
 * l is 2^-16 s (about 15.26 microseconds). The low 16 bits are the logical counter c. Words compare
 * as unsigned 64-bit integers (the seconds field uses its top bit from 2038 on), and comparing the
 * words is the same as comparing (l, c). The format lasts until 2106.
 *
 * <p>Because c sits in the low bits, "c + 1" on a word whose c is 0xFFFF carries into l: the
 * timestamp stays unique and increasing, and l runs one unit ahead of physical time for it.
 */
public final class HlcTimestamp {
    public static final int LOGICAL_BITS = 16;
    public static final long LOGICAL_MASK = 0xFFFFL;
    /** Nanoseconds in one unit of l, rounded up: the resolution of the physical component. */
    public static final long NANOS_PER_L_UNIT_CEIL = 15_259;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");

    private HlcTimestamp() {}

    /** Builds a word from l (48 bits) and c (16 bits). */
    public static long of(long l, int c) {
        if ((l >>> 48) != 0) throw new IllegalArgumentException("l does not fit 48 bits: " + l);
        if ((c & ~0xFFFF) != 0) throw new IllegalArgumentException("c does not fit 16 bits: " + c);
        return (l << LOGICAL_BITS) | c;
    }

    /** The physical component l, in units of 2^-16 s since the Unix epoch. */
    public static long l(long word) {
        return word >>> LOGICAL_BITS;
    }

    /** The logical component c. */
    public static int c(long word) {
        return (int) (word & LOGICAL_MASK);
    }

    /** The word for a physical time (c = 0), truncating to the resolution of l. */
    public static long fromNanos(long epochNanos) {
        if (epochNanos < 0) throw new IllegalArgumentException("time before 1970: " + epochNanos);
        long seconds = epochNanos / NANOS_PER_SECOND;
        long fraction = ((epochNanos % NANOS_PER_SECOND) << 16) / NANOS_PER_SECOND;
        return (seconds << 32) | (fraction << LOGICAL_BITS);
    }

    /** Physical time of l in nanoseconds since the epoch (rounded down); c is ignored. */
    public static long toNanos(long word) {
        long seconds = word >>> 32;
        long fraction = (word >>> LOGICAL_BITS) & 0xFFFFL;
        return seconds * NANOS_PER_SECOND + ((fraction * NANOS_PER_SECOND) >>> 16);
    }

    /** Nanoseconds to l units, rounding up, for bounds such as the max offset. */
    public static long nanosToLUnitsCeil(long nanos) {
        if (nanos <= 0) return 0;
        // 2^16 units per second; split to avoid overflow for durations up to centuries.
        long seconds = nanos / NANOS_PER_SECOND;
        long rest = nanos % NANOS_PER_SECOND;
        return (seconds << 16) + ((rest << 16) + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND;
    }

    public static long fromInstant(Instant instant) {
        return fromNanos(Math.addExact(Math.multiplyExact(instant.getEpochSecond(), NANOS_PER_SECOND), instant.getNano()));
    }

    public static Instant toInstant(long word) {
        long nanos = toNanos(word);
        return Instant.ofEpochSecond(Long.divideUnsigned(nanos, NANOS_PER_SECOND), Long.remainderUnsigned(nanos, NANOS_PER_SECOND));
    }

    /** Unsigned comparison of two words: the total order of (l, c). */
    public static int compare(long a, long b) {
        return Long.compareUnsigned(a, b);
    }

    public static long max(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }

    /** 16 lower-case hex digits, zero padded: the form used in headers dumps and event logs. */
    public static String toHex(long word) {
        String hex = Long.toHexString(word);
        return "0000000000000000".substring(hex.length()) + hex;
    }

    /** Parses exactly 16 hex digits. */
    public static long fromHex(CharSequence hex) {
        if (hex.length() != 16) throw new IllegalArgumentException("an HLC word is 16 hex digits, got \"" + hex + "\"");
        long v = 0;
        for (int i = 0; i < 16; i++) {
            int d = Character.digit(hex.charAt(i), 16);
            if (d < 0) throw new IllegalArgumentException("not a hex digit at position " + i + " in \"" + hex + "\"");
            v = (v << 4) | d;
        }
        return v;
    }

    /**
     * A human-readable form that sorts like the word: {@code 2026-11-23T01:29:26.123456Z/00012}, the
     * UTC time of l with microseconds (distinct l always print distinct microseconds, since a unit
     * of l is longer than a microsecond) and c as five decimal digits.
     */
    public static String toSortableString(long word) {
        long seconds = word >>> 32;
        long fraction = (word >>> LOGICAL_BITS) & 0xFFFFL;
        long micros = (fraction * 1_000_000L) >>> 16;
        LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
        StringBuilder sb = new StringBuilder(33).append(SECONDS.format(t)).append('.');
        String m = Long.toString(micros);
        for (int i = m.length(); i < 6; i++) sb.append('0');
        sb.append(m).append("Z/");
        String c = Integer.toString(c(word));
        for (int i = c.length(); i < 5; i++) sb.append('0');
        return sb.append(c).toString();
    }

    /** Inverse of {@link #toSortableString(long)}. */
    public static long fromSortableString(String s) {
        if (s.length() != 33 || s.charAt(19) != '.' || s.charAt(26) != 'Z' || s.charAt(27) != '/') {
            throw new IllegalArgumentException("expected yyyy-MM-ddTHH:mm:ss.ffffffZ/ccccc, got \"" + s + "\"");
        }
        try {
            long seconds = LocalDateTime.parse(s.substring(0, 19), SECONDS).toEpochSecond(ZoneOffset.UTC);
            long micros = Long.parseLong(s.substring(20, 26));
            int c = Integer.parseInt(s.substring(28));
            // smallest fraction whose microseconds print as 'micros' (the map is injective and monotone)
            long fraction = (micros * 65536L + 999_999L) / 1_000_000L;
            if (seconds < 0 || (seconds >>> 32) != 0 || c > 0xFFFF) throw new IllegalArgumentException("out of range: \"" + s + "\"");
            return (seconds << 32) | (fraction << LOGICAL_BITS) | c;
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new IllegalArgumentException("not an HLC time \"" + s + "\": " + e.getMessage(), e);
        }
    }

    /** Parses either form: 16 hex digits or the sortable string. */
    public static long parse(String s) {
        String t = s.strip();
        return t.length() == 16 ? fromHex(t) : fromSortableString(t);
    }
}
