package io.hlctrace.timeline;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Streams the events of one log file, in file order, in bounded memory: one buffer of
 * {@link #BUFFER_BYTES} bytes. Lines that cannot be used are reported to the {@link Diagnostics}
 * with file and line and skipped; the rest is read. A line longer than {@link #MAX_LINE_BYTES} is
 * skipped (reported); a last line without a newline is a truncated write when it does not parse.
 *
 * <p>{@link #next()} returns the next event; until the following call, {@link #writeCurrentLine}
 * copies that event's original bytes (so {@code merge} outputs lines verbatim).
 */
public final class EventLogReader implements Closeable {
    public static final int MAX_LINE_BYTES = 1 << 20;
    /** The buffer starts here and doubles (up to MAX_LINE_BYTES + 64 KiB) only for long lines. */
    static final int INITIAL_BUFFER_BYTES = 1 << 16;

    private final String name;
    private final InputStream in;
    private final Diagnostics diagnostics;
    private final EventLineParser parser;
    private byte[] buf = new byte[INITIAL_BUFFER_BYTES];
    private int pos;      // start of the unread part
    private int limit;    // end of valid bytes
    private boolean eof;
    private long lineNo;
    private int curStart, curEnd;
    private long eventsRead;
    private long linesSkipped;
    /** The merge's memory of this file's previous event (to notice HLC going backwards within the file). */
    Event lastReturned;

    public EventLogReader(Path path, String name, Diagnostics diagnostics) throws IOException {
        this(Files.newInputStream(path), name, diagnostics, new StringTable());
    }

    EventLogReader(Path path, String name, Diagnostics diagnostics, StringTable strings) throws IOException {
        this(Files.newInputStream(path), name, diagnostics, strings);
    }

    EventLogReader(InputStream in, String name, Diagnostics diagnostics, StringTable strings) {
        this.in = in;
        this.name = name;
        this.diagnostics = diagnostics;
        this.parser = new EventLineParser(strings);
    }

    public String name() { return name; }

    public long eventsRead() { return eventsRead; }

    /** Lines that were not turned into events (malformed, truncated, newer version, too long). */
    public long linesSkipped() { return linesSkipped; }

    /** The next event in file order, or null at the end of the file. */
    public Event next() throws IOException {
        for (;;) {
            int nl = findNewline();
            boolean lastUnterminated = false;
            if (nl < 0) {
                if (limit - pos >= MAX_LINE_BYTES) {
                    lineNo++;
                    linesSkipped++;
                    diagnostics.error(name, lineNo, "line longer than " + MAX_LINE_BYTES + " bytes; skipped");
                    skipToNewline();
                    continue;
                }
                if (!eof) {
                    if (pos == 0 && limit == buf.length) buf = java.util.Arrays.copyOf(buf, Math.min(buf.length * 2, MAX_LINE_BYTES + (1 << 16)));
                    fill();
                    continue;
                }
                if (pos >= limit) return null;
                nl = limit;
                lastUnterminated = true;
            }
            lineNo++;
            int start = pos, stop = nl;
            pos = lastUnterminated ? limit : nl + 1;
            if (stop > start && buf[stop - 1] == '\r') stop--;
            if (isBlank(start, stop)) continue;
            Event e = parser.parse(buf, start, stop, name, lineNo, lastUnterminated ? truncationAware : diagnostics);
            String unknown = parser.takeUnknownField();
            if (unknown != null) {
                diagnostics.warning(name, lineNo, "unknown field \"" + unknown + "\" ignored (reported once per file)");
            }
            if (e == null) {
                linesSkipped++;
                if (lastUnterminated) {
                    diagnostics.error(name, lineNo, "truncated last line (the file ends without a newline in the middle of an event); skipped: "
                            + truncationAware.lastWhat());
                }
                continue;
            }
            if (lastUnterminated) diagnostics.warning(name, lineNo, "last line has no newline (file still being written?); it parsed and was used");
            curStart = start;
            curEnd = stop;
            eventsRead++;
            return e;
        }
    }

    /** Copies the current event's original line, plus a newline, to {@code out}. */
    public void writeCurrentLine(OutputStream out) throws IOException {
        out.write(buf, curStart, curEnd - curStart);
        out.write('\n');
    }

    private final TruncationDiagnostics truncationAware = new TruncationDiagnostics();

    /** Swallows the parse error of an unterminated last line so it is reported once, as truncation. */
    private static final class TruncationDiagnostics extends Diagnostics {
        private String what = "";

        TruncationDiagnostics() { super(1); }

        @Override
        public synchronized void error(String file, long line, String w) { what = w; }

        String lastWhat() { return what; }
    }

    private boolean isBlank(int s, int e) {
        for (int i = s; i < e; i++) {
            byte c = buf[i];
            if (c != ' ' && c != '\t' && c != '\r') return false;
        }
        return true;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0A0A0A0A0A0A0A0AL;

    /** Finds the next '\n' eight bytes at a time (the classic has-zero-byte trick on x ^ '\n'...). */
    private int findNewline() {
        int i = pos;
        for (; i + 8 <= limit; i += 8) {
            long x = (long) LONGS.get(buf, i) ^ NEWLINES;
            long found = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
            if (found != 0) return i + (Long.numberOfTrailingZeros(found) >>> 3);
        }
        for (; i < limit; i++) if (buf[i] == '\n') return i;
        return -1;
    }


    private void fill() throws IOException {
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, limit - pos);
            limit -= pos;
            pos = 0;
        }
        while (limit < buf.length) {
            int n = in.read(buf, limit, buf.length - limit);
            if (n < 0) { eof = true; return; }
            limit += n;
            if (n > 0) return;
        }
    }

    private void skipToNewline() throws IOException {
        for (;;) {
            int nl = findNewline();
            if (nl >= 0) { pos = nl + 1; return; }
            pos = limit;
            if (eof) return;
            fill();
        }
    }

    @Override
    public void close() throws IOException { in.close(); }
}
