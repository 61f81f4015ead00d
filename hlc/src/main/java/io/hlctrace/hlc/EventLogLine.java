package io.hlctrace.hlc;

/**
 * Writes one line of the event log (JSON Lines, schema in docs/event-log.md), the format shared by
 * the agent, the kernel probe and the timeline tool. Field names and kinds are the constants here,
 * so there is one spelling of each.
 *
 * <pre>
 * String line = new EventLogLine().hlc(ts).str(EventLogLine.NODE, "A")...end();
 * </pre>
 */
public final class EventLogLine {
    public static final int SCHEMA_VERSION = 1;

    // fields
    public static final String V = "v";
    public static final String HLC = "hlc";
    public static final String NODE = "node";
    public static final String PROC = "proc";
    public static final String SEQ = "seq";
    public static final String KIND = "kind";
    public static final String PT = "pt";
    public static final String SRC = "src";
    public static final String MSG = "msg";
    public static final String CONN = "conn";
    public static final String PROTO = "proto";
    public static final String LOCAL = "local";
    public static final String REMOTE = "remote";
    public static final String BYTES = "bytes";
    public static final String OFF = "off";
    public static final String RHLC = "rhlc";
    public static final String REFUSED = "refused";
    public static final String UNHEALTHY = "unhealthy";
    public static final String LAMPORT = "lamport";
    public static final String VC = "vc";
    public static final String PID = "pid";
    public static final String COMM = "comm";
    public static final String CGROUP = "cgroup";
    public static final String NETNS = "netns";
    public static final String TCP_SEQ = "tcp_seq";
    public static final String DROPPED = "dropped";
    public static final String INFO = "info";
    /** On {@link #KIND_DROP}: why the events were lost, {@link #CAUSE_RING_BUFFER_FULL} or {@link #CAUSE_FAIL_STOP}. */
    public static final String CAUSE = "cause";
    public static final String CAUSE_RING_BUFFER_FULL = "ring-buffer-full";
    /** Not stamped on purpose: the executor's clock sync failed and the fail mode is refuse. */
    public static final String CAUSE_FAIL_STOP = "fail-stop";

    // kinds
    public static final String KIND_SEND = "send";
    public static final String KIND_RECV = "recv";
    public static final String KIND_CONNECT = "connect";
    public static final String KIND_ACCEPT = "accept";
    public static final String KIND_CLOSE = "close";
    public static final String KIND_LOCAL = "local";
    public static final String KIND_START = "start";
    public static final String KIND_STOP = "stop";
    /** Events were lost (queue or ring buffer overflow): {@link #DROPPED} says how many. */
    public static final String KIND_DROP = "drop";

    // sources
    public static final String SRC_AGENT = "agent";
    public static final String SRC_PROBE = "probe";

    private final StringBuilder sb;
    private boolean first = true;

    public EventLogLine() {
        this(new StringBuilder(256));
    }

    /** Reuses a builder (cleared) to spare an allocation per event on hot paths. */
    public EventLogLine(StringBuilder reuse) {
        this.sb = reuse;
        sb.setLength(0);
        sb.append('{');
        num(V, SCHEMA_VERSION);
    }

    private StringBuilder key(String name) {
        if (!first) sb.append(',');
        first = false;
        sb.append('"').append(name).append("\":");
        return sb;
    }

    public EventLogLine hlc(long word) {
        return hex(HLC, word);
    }

    /** A 64-bit value as 16 hex digits in a string (HLC words and message ids). */
    public EventLogLine hex(String name, long word) {
        key(name).append('"').append(HlcTimestamp.toHex(word)).append('"');
        return this;
    }

    public EventLogLine str(String name, String value) {
        appendJsonString(key(name), value);
        return this;
    }

    public EventLogLine num(String name, long value) {
        key(name).append(value);
        return this;
    }

    public EventLogLine bool(String name, boolean value) {
        key(name).append(value);
        return this;
    }

    /** A half-open range [start, end) as a two-element array. */
    public EventLogLine range(String name, long start, long end) {
        key(name).append('[').append(start).append(',').append(end).append(']');
        return this;
    }

    /** The connection: {"proto":"tcp","local":"10.0.0.1:80","remote":"10.0.0.2:41234"}. */
    public EventLogLine conn(String proto, String local, String remote) {
        key(CONN).append('{');
        appendJsonString(sb.append('"').append(PROTO).append("\":"), proto);
        appendJsonString(sb.append(",\"").append(LOCAL).append("\":"), local);
        appendJsonString(sb.append(",\"").append(REMOTE).append("\":"), remote);
        sb.append('}');
        return this;
    }

    /** A value that is already JSON (an object or array built by the caller). */
    public EventLogLine raw(String name, CharSequence json) {
        key(name).append(json);
        return this;
    }

    /** Closes the object; the line has no trailing newline. */
    public String end() {
        return sb.append('}').toString();
    }

    /** Appends s as a JSON string literal. */
    public static void appendJsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) sb.append(String.format("\\u%04x", (int) ch));
                    else sb.append(ch);
                }
            }
        }
        sb.append('"');
    }

    /*
     * The byte twins of hlc()/num() for writers that format lines straight into a byte buffer (the
     * agent's log writer, the probe daemon): the same text, without a String per line.
     */
    private static final byte[] HEX_DIGITS = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    private static final byte[] DIGIT_TENS = new byte[100], DIGIT_ONES = new byte[100];

    static {
        for (int i = 0; i < 100; i++) {
            DIGIT_TENS[i] = (byte) ('0' + i / 10);
            DIGIT_ONES[i] = (byte) ('0' + i % 10);
        }
    }

    /** Longest text {@link #writeDecimal} writes: "-9223372036854775808". */
    public static final int MAX_DECIMAL_BYTES = 20;

    /** Writes word as 16 lowercase hex digits (as {@link HlcTimestamp#toHex}) at to[at]; returns the index after them. */
    public static int writeHex(byte[] to, int at, long word) {
        for (int i = at + 14; i >= at; i -= 2) {
            int pair = (int) (word & 0xFF);
            to[i] = HEX_DIGITS[pair >>> 4];
            to[i + 1] = HEX_DIGITS[pair & 0xF];
            word >>>= 8;
        }
        return at + 16;
    }

    /**
     * Writes v in decimal (as {@code StringBuilder.append(long)}) at to[at], which must have room for
     * {@link #MAX_DECIMAL_BYTES}; returns the index after it. Two digits per division.
     */
    public static int writeDecimal(byte[] to, int at, long v) {
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                byte[] min = Long.toString(v).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                System.arraycopy(min, 0, to, at, min.length);
                return at + min.length;
            }
            to[at++] = '-';
            v = -v;
        }
        int digits = 1;
        for (long limit = 10; digits < 19 && v >= limit; limit *= 10) digits++;
        int end = at + digits, p = end;
        while (v >= 100) {
            int pair = (int) (v % 100);
            v /= 100;
            to[--p] = DIGIT_ONES[pair];
            to[--p] = DIGIT_TENS[pair];
        }
        int last = (int) v;
        to[--p] = DIGIT_ONES[last];
        if (last >= 10) to[--p] = DIGIT_TENS[last];
        return end;
    }
}
