package io.hlctrace.timeline;

import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.VectorClock;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * A hand-rolled parser for one event-log line (a flat JSON object, docs/event-log.md), working on
 * the bytes in the reader's buffer: no JSON library, no intermediate tree, repeated strings taken
 * from a {@link StringTable}. It accepts any valid JSON object (whitespace, escapes, fields in any
 * order, unknown fields of any type) and rejects everything else with the column where it went
 * wrong. Nesting of unknown values is limited to {@link #MAX_DEPTH} so a hostile line cannot
 * overflow the stack.
 */
final class EventLineParser {
    static final int MAX_DEPTH = 64;
    private static final int MAX_UNKNOWN_REPORTED = 32;

    private final StringTable strings;
    private final Set<String> unknownFieldsReported = new HashSet<>();
    private final Set<String> unknownKindsReported = new HashSet<>();

    // the line being parsed
    private byte[] b;
    private int p;
    private int end;
    private int lineStart;
    private boolean ascii;
    private String error;

    // the fields, reset per line
    private int v;
    private long hlc;
    private boolean hasHlc;
    private String node, proc, kind, src, msg, proto, local, remote, info;
    private long seq, pt, bytes, offStart, offEnd, rhlc, lamport, dropped;
    private boolean hasSeq, hasPt, hasV, refused, unhealthy;
    private VectorClock vc;

    EventLineParser(StringTable strings) {
        this.strings = strings;
    }

    /** Parses b[start, end) (no newline). Returns the event, or null after reporting why not. */
    Event parse(byte[] buf, int start, int stop, String file, long line, Diagnostics diagnostics) {
        b = buf;
        p = start;
        end = stop;
        lineStart = start;
        error = null;
        reset();
        if (!parseObject()) {
            diagnostics.error(file, line, "malformed line, " + error + ": " + excerpt(buf, start, stop));
            return null;
        }
        if (!hasV) return missing(diagnostics, file, line, "v");
        if (v > EventLogLine.SCHEMA_VERSION) {
            diagnostics.error(file, line, "schema version " + v + " is newer than this reader understands (" + EventLogLine.SCHEMA_VERSION
                    + "); line skipped: use an hlctrace at least as new as the writer");
            return null;
        }
        if (v < 1) {
            diagnostics.error(file, line, "schema version " + v + " does not exist (versions start at 1); line skipped");
            return null;
        }
        if (!hasHlc) return missing(diagnostics, file, line, "hlc");
        if (node == null) return missing(diagnostics, file, line, "node");
        if (proc == null) return missing(diagnostics, file, line, "proc");
        if (!hasSeq) return missing(diagnostics, file, line, "seq");
        if (kind == null) return missing(diagnostics, file, line, "kind");
        if (!hasPt) return missing(diagnostics, file, line, "pt");
        if (src == null) return missing(diagnostics, file, line, "src");
        if (!knownKind(kind) && unknownKindsReported.size() < MAX_UNKNOWN_REPORTED && unknownKindsReported.add(kind)) {
            diagnostics.warning(file, line, "unknown kind \"" + kind + "\" (treated as a local event; reported once per file)");
        }
        return new Event(v, hlc, node, proc, seq, kind, pt, src, msg, proto, local, remote, bytes, offStart, offEnd,
                rhlc, refused, unhealthy, lamport, vc, dropped, info, file, line);
    }

    /** Reports an unknown field once per file (the schema lets writers add fields). */
    private String pendingUnknownField;

    String takeUnknownField() {
        String f = pendingUnknownField;
        pendingUnknownField = null;
        return f;
    }

    private static boolean knownKind(String k) {
        switch (k) {
            case EventLogLine.KIND_SEND, EventLogLine.KIND_RECV, EventLogLine.KIND_CONNECT, EventLogLine.KIND_ACCEPT,
                    EventLogLine.KIND_CLOSE, EventLogLine.KIND_LOCAL, EventLogLine.KIND_START, EventLogLine.KIND_STOP,
                    EventLogLine.KIND_DROP:
                return true;
            default:
                return false;
        }
    }

    private Event missing(Diagnostics d, String file, long line, String field) {
        d.error(file, line, "missing required field \"" + field + "\"; line skipped");
        return null;
    }

    private void reset() {
        v = 0; hasV = false; hlc = 0; hasHlc = false;
        node = proc = kind = src = msg = proto = local = remote = info = null;
        seq = pt = 0; hasSeq = hasPt = false;
        bytes = offStart = offEnd = lamport = -1;
        rhlc = 0; dropped = 0; refused = unhealthy = false; vc = null;
    }

    static String excerpt(byte[] buf, int start, int stop) {
        int n = Math.min(stop - start, 120);
        StringBuilder sb = new StringBuilder();
        String s = new String(buf, start, n, StandardCharsets.UTF_8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (stop - start > n) sb.append("...");
        return sb.toString();
    }

    private boolean fail(String what) {
        if (error == null) error = what + " at column " + (p - lineStart + 1);
        return false;
    }

    private void ws() {
        while (p < end) {
            byte c = b[p];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') p++;
            else break;
        }
    }

    private boolean expect(char c) {
        ws();
        if (p < end && b[p] == c) { p++; return true; }
        return fail(p < end ? "expected '" + c + "' but found '" + (char) (b[p] & 0xff) + "'" : "expected '" + c + "' but the line ended");
    }

    /** Writers emit fields in one order, so the field after the last one is tried first. */
    private int lastField;

    private boolean parseObject() {
        lastField = 0;
        if (!expect('{')) return false;
        ws();
        if (p < end && b[p] == '}') { p++; return trailing(); }
        for (;;) {
            ws();
            if (p >= end || b[p] != '"') return fail("expected a field name");
            int ks = ++p;
            boolean escaped = false;
            while (p < end && b[p] != '"') {
                if (b[p] == '\\') { escaped = true; p++; }
                p++;
            }
            if (p >= end) return fail("unterminated field name");
            int ke = p++;
            if (!expect(':')) return false;
            ws();
            int field = escaped ? fieldId(decodeEscapedKey(ks, ke)) : fieldId(b, ks, ke, lastField + 1);
            lastField = field;
            if (!value(field, ks, ke)) return false;
            ws();
            if (p >= end) return fail("expected ',' or '}' but the line ended");
            byte c = b[p++];
            if (c == '}') return trailing();
            if (c != ',') { p--; return fail("expected ',' or '}'"); }
        }
    }

    private boolean trailing() {
        ws();
        if (p < end) return fail("unexpected text after the closing '}'");
        return true;
    }

    private String decodeEscapedKey(int ks, int ke) {
        int save = p;
        p = ks - 1;
        String s = string(false);
        p = save;
        return s == null ? "" : s;
    }

    private static final int F_UNKNOWN = 0, F_V = 1, F_HLC = 2, F_NODE = 3, F_PROC = 4, F_SEQ = 5, F_KIND = 6, F_PT = 7,
            F_SRC = 8, F_MSG = 9, F_CONN = 10, F_BYTES = 11, F_OFF = 12, F_RHLC = 13, F_REFUSED = 14, F_UNHEALTHY = 15,
            F_LAMPORT = 16, F_VC = 17, F_DROPPED = 18, F_INFO = 19, F_SKIP_KNOWN = 20;

    private static final String[] NAMES = new String[21];
    private static final byte[][] NAME_BYTES = new byte[21][];

    static {
        NAMES[F_V] = EventLogLine.V; NAMES[F_HLC] = EventLogLine.HLC; NAMES[F_NODE] = EventLogLine.NODE;
        NAMES[F_PROC] = EventLogLine.PROC; NAMES[F_SEQ] = EventLogLine.SEQ; NAMES[F_KIND] = EventLogLine.KIND;
        NAMES[F_PT] = EventLogLine.PT; NAMES[F_SRC] = EventLogLine.SRC; NAMES[F_MSG] = EventLogLine.MSG;
        NAMES[F_CONN] = EventLogLine.CONN; NAMES[F_BYTES] = EventLogLine.BYTES; NAMES[F_OFF] = EventLogLine.OFF;
        NAMES[F_RHLC] = EventLogLine.RHLC; NAMES[F_REFUSED] = EventLogLine.REFUSED; NAMES[F_UNHEALTHY] = EventLogLine.UNHEALTHY;
        NAMES[F_LAMPORT] = EventLogLine.LAMPORT; NAMES[F_VC] = EventLogLine.VC; NAMES[F_DROPPED] = EventLogLine.DROPPED;
        NAMES[F_INFO] = EventLogLine.INFO;
        for (int i = 1; i < 20; i++) NAME_BYTES[i] = NAMES[i].getBytes(StandardCharsets.US_ASCII);
    }

    private static final Set<String> SKIPPED_KNOWN = Set.of(EventLogLine.TCP_SEQ, EventLogLine.PID, EventLogLine.COMM, Exports.ORIGIN,
            EventLogLine.CGROUP, EventLogLine.NETNS);

    private static int fieldId(byte[] b, int s, int e, int guess) {
        int len = e - s;
        if (guess < 20 && matches(NAME_BYTES[guess], b, s, len)) return guess;
        // the common fields first, by length and first byte, then a full comparison
        for (int i = 1; i < 20; i++) {
            byte[] n = NAME_BYTES[i];
            if (n.length != len || n[0] != b[s]) continue;
            boolean eq = true;
            for (int j = 1; j < len; j++) if (n[j] != b[s + j]) { eq = false; break; }
            if (eq) return i;
        }
        if (SKIPPED_KNOWN.contains(new String(b, s, len, StandardCharsets.ISO_8859_1))) return F_SKIP_KNOWN;
        return F_UNKNOWN;
    }

    private static boolean matches(byte[] n, byte[] b, int s, int len) {
        if (n.length != len) return false;
        for (int j = 0; j < len; j++) if (n[j] != b[s + j]) return false;
        return true;
    }

    private static int fieldId(String name) {
        for (int i = 1; i < 20; i++) if (NAMES[i].equals(name)) return i;
        return SKIPPED_KNOWN.contains(name) ? F_SKIP_KNOWN : F_UNKNOWN;
    }

    private boolean value(int field, int ks, int ke) {
        switch (field) {
            case F_V -> {
                long x = integer("v");
                if (error != null) return false;
                if (x > Integer.MAX_VALUE || x < Integer.MIN_VALUE) return fail("v out of range");
                v = (int) x;
                hasV = true;
            }
            case F_HLC -> { hlc = hexWord("hlc"); hasHlc = error == null; }
            case F_RHLC -> rhlc = hexWord("rhlc");
            case F_NODE -> node = string(true);
            case F_PROC -> proc = string(true);
            case F_KIND -> kind = string(true);
            case F_SRC -> src = string(true);
            case F_MSG -> msg = nullableString(false);
            case F_INFO -> info = nullableString(false);
            case F_SEQ -> { seq = integer("seq"); hasSeq = true; }
            case F_PT -> { pt = integer("pt"); hasPt = true; }
            case F_BYTES -> bytes = integer("bytes");
            case F_LAMPORT -> lamport = integer("lamport");
            case F_DROPPED -> dropped = integer("dropped");
            case F_REFUSED -> refused = bool("refused");
            case F_UNHEALTHY -> unhealthy = bool("unhealthy");
            case F_OFF -> range();
            case F_CONN -> conn();
            case F_VC -> vectorClock();
            case F_SKIP_KNOWN -> skipValue(0);
            default -> {
                if (pendingUnknownField == null && unknownFieldsReported.size() < MAX_UNKNOWN_REPORTED) {
                    String name = new String(b, ks, ke - ks, StandardCharsets.UTF_8);
                    if (unknownFieldsReported.add(name)) pendingUnknownField = name;
                }
                skipValue(0);
            }
        }
        return error == null;
    }

    private long integer(String name) {
        ws();
        int s = p;
        boolean neg = false;
        if (p < end && b[p] == '-') { neg = true; p++; }
        long x = 0;
        int digits = 0;
        while (p < end) {
            int d = b[p] - '0';
            if (d < 0 || d > 9) break;
            // 18 digits always fit; only from the 19th on can x * 10 + d overflow
            if (digits >= 18 && x > (Long.MAX_VALUE - d) / 10) { fail("\"" + name + "\" does not fit a 64-bit integer"); return 0; }
            x = x * 10 + d;
            p++;
            digits++;
        }
        if (digits == 0) { p = s; fail("\"" + name + "\" must be an integer"); return 0; }
        if (p < end && (b[p] == '.' || b[p] == 'e' || b[p] == 'E')) { fail("\"" + name + "\" must be an integer, not a fraction"); return 0; }
        return neg ? -x : x;
    }

    private long hexWord(String name) {
        ws();
        if (p + 18 > end || b[p] != '"' || b[p + 17] != '"') { fail("\"" + name + "\" must be 16 hex digits in quotes"); return 0; }
        long x = 0;
        for (int i = p + 1; i < p + 17; i++) {
            int c = b[i], d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else { p = i; fail("\"" + name + "\" has a character that is not a hex digit"); return 0; }
            x = (x << 4) | d;
        }
        p += 18;
        return x;
    }

    private boolean bool(String name) {
        ws();
        if (p + 4 <= end && b[p] == 't' && b[p + 1] == 'r' && b[p + 2] == 'u' && b[p + 3] == 'e') { p += 4; return true; }
        if (p + 5 <= end && b[p] == 'f' && b[p + 1] == 'a' && b[p + 2] == 'l' && b[p + 3] == 's' && b[p + 4] == 'e') { p += 5; return false; }
        fail("\"" + name + "\" must be true or false");
        return false;
    }

    private String nullableString(boolean intern) {
        ws();
        if (p + 4 <= end && b[p] == 'n' && b[p + 1] == 'u' && b[p + 2] == 'l' && b[p + 3] == 'l') { p += 4; return null; }
        return string(intern);
    }

    /** A JSON string; interned values come from the string table when they have no escapes. */
    private String string(boolean intern) {
        ws();
        if (p >= end || b[p] != '"') { fail("expected a string"); return null; }
        int s = ++p;
        boolean plainAscii = true;
        while (p < end) {
            byte c = b[p];
            if (c == '"') break;
            if (c == '\\') return escapedString(s);
            if (c < 0x20 && c >= 0) { fail("control character inside a string"); return null; }
            if (c < 0) plainAscii = false;
            p++;
        }
        if (p >= end) { fail("unterminated string"); return null; }
        int e = p++;
        return intern ? strings.get(b, s, e, plainAscii) : StringTable.decode(b, s, e, plainAscii);
    }

    private String escapedString(int s) {
        StringBuilder sb = new StringBuilder(new String(b, s, p - s, StandardCharsets.UTF_8));
        int chunk = p;
        while (p < end) {
            byte c = b[p];
            if (c == '"') {
                sb.append(new String(b, chunk, p - chunk, StandardCharsets.UTF_8));
                p++;
                return sb.toString();
            }
            if (c >= 0 && c < 0x20) { fail("control character inside a string"); return null; }
            if (c != '\\') { p++; continue; }
            sb.append(new String(b, chunk, p - chunk, StandardCharsets.UTF_8));
            if (p + 1 >= end) { fail("unterminated escape"); return null; }
            byte e = b[p + 1];
            p += 2;
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (p + 4 > end) { fail("short \\u escape"); return null; }
                    int x = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(b[p + i], 16);
                        if (d < 0) { fail("bad \\u escape"); return null; }
                        x = x * 16 + d;
                    }
                    p += 4;
                    sb.append((char) x);
                }
                default -> { p--; fail("unknown escape \\" + (char) (e & 0xff)); return null; }
            }
            chunk = p;
        }
        fail("unterminated string");
        return null;
    }

    private void range() {
        if (!expect('[')) return;
        long a = integer("off[0]");
        if (error != null || !expect(',')) return;
        long z = integer("off[1]");
        if (error != null || !expect(']')) return;
        if (a < 0 || z < a) { fail("\"off\" must be [start, end) with 0 <= start <= end"); return; }
        offStart = a;
        offEnd = z;
    }

    private void conn() {
        ws();
        if (p + 4 <= end && b[p] == 'n' && b[p + 1] == 'u' && b[p + 2] == 'l' && b[p + 3] == 'l') { p += 4; return; }
        if (!expect('{')) return;
        ws();
        if (p < end && b[p] == '}') { p++; return; }
        for (;;) {
            String key = string(true);
            if (error != null || !expect(':')) return;
            if (EventLogLine.PROTO.equals(key)) proto = string(true);
            else if (EventLogLine.LOCAL.equals(key)) local = string(true);
            else if (EventLogLine.REMOTE.equals(key)) remote = string(true);
            else skipValue(1);
            if (error != null) return;
            ws();
            if (p >= end) { fail("unterminated conn object"); return; }
            byte c = b[p++];
            if (c == '}') return;
            if (c != ',') { p--; fail("expected ',' or '}' in conn"); return; }
        }
    }

    private void vectorClock() {
        ws();
        if (p + 4 <= end && b[p] == 'n' && b[p + 1] == 'u' && b[p + 2] == 'l' && b[p + 3] == 'l') { p += 4; return; }
        if (!expect('{')) return;
        TreeMap<String, Long> m = new TreeMap<>();
        ws();
        if (p < end && b[p] == '}') { p++; vc = VectorClock.ZERO; return; }
        for (;;) {
            String key = string(true);
            if (error != null || !expect(':')) return;
            long x = integer("vc entry");
            if (error != null) return;
            if (x < 0) { fail("negative vector clock entry"); return; }
            m.put(key, x);
            ws();
            if (p >= end) { fail("unterminated vc object"); return; }
            byte c = b[p++];
            if (c == '}') break;
            if (c != ',') { p--; fail("expected ',' or '}' in vc"); return; }
        }
        vc = VectorClock.of(m);
    }

    /** Skips any JSON value, checking its syntax, nested at most MAX_DEPTH deep. */
    private void skipValue(int depth) {
        if (depth > MAX_DEPTH) { fail("values nested deeper than " + MAX_DEPTH); return; }
        ws();
        if (p >= end) { fail("expected a value but the line ended"); return; }
        byte c = b[p];
        switch (c) {
            case '"' -> string(false);
            case '{' -> {
                p++;
                ws();
                if (p < end && b[p] == '}') { p++; return; }
                for (;;) {
                    string(false);
                    if (error != null || !expect(':')) return;
                    skipValue(depth + 1);
                    if (error != null) return;
                    ws();
                    if (p >= end) { fail("unterminated object"); return; }
                    byte x = b[p++];
                    if (x == '}') return;
                    if (x != ',') { p--; fail("expected ',' or '}'"); return; }
                    ws();
                }
            }
            case '[' -> {
                p++;
                ws();
                if (p < end && b[p] == ']') { p++; return; }
                for (;;) {
                    skipValue(depth + 1);
                    if (error != null) return;
                    ws();
                    if (p >= end) { fail("unterminated array"); return; }
                    byte x = b[p++];
                    if (x == ']') return;
                    if (x != ',') { p--; fail("expected ',' or ']'"); return; }
                }
            }
            case 't' -> bool("value");
            case 'f' -> bool("value");
            case 'n' -> {
                if (p + 4 <= end && b[p + 1] == 'u' && b[p + 2] == 'l' && b[p + 3] == 'l') p += 4;
                else fail("expected a value");
            }
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    if (c == '-') p++;
                    int s = p;
                    while (p < end && ((b[p] >= '0' && b[p] <= '9') || b[p] == '.' || b[p] == 'e' || b[p] == 'E' || b[p] == '+' || b[p] == '-')) p++;
                    if (p == s) fail("expected a number");
                } else {
                    fail("expected a value");
                }
            }
        }
    }
}
