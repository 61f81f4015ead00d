package io.hlctrace.agent;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

import io.hlctrace.hlc.EventLogLine;

/**
 * The process's event log (docs/event-log.md) as a preallocated ring of event slots, so that an
 * application thread pays only for the clock tick and a few field stores per event, and allocates
 * nothing: {@link Stamper} takes a ticket (the clock tick and the ticket under one lock, so ticket
 * order is HLC order), the thread fills the slot's fields and publishes it; one daemon thread
 * formats the published slots in ticket order with {@link EventLogLine} and writes them.
 *
 * <p>When every slot is taken the event is counted as lost and the writer reports the count as a
 * {@code drop} event, so a loss is never silent. A slot may be cancelled (a non-blocking write that
 * the kernel took nothing of): the writer skips it. {@code seq} is numbered by the writer over the
 * events it writes, so it is contiguous and in ticket (= HLC) order.
 */
public final class EventLog {
    // kinds, indexes into KIND_NAMES
    static final byte SEND = 0, RECV = 1, CONNECT = 2, ACCEPT = 3, CLOSE = 4, START = 5, STOP = 6, DROP = 7;
    private static final String[] KIND_NAMES = {EventLogLine.KIND_SEND, EventLogLine.KIND_RECV, EventLogLine.KIND_CONNECT,
            EventLogLine.KIND_ACCEPT, EventLogLine.KIND_CLOSE, EventLogLine.KIND_START, EventLogLine.KIND_STOP, EventLogLine.KIND_DROP};
    // flags
    static final byte HAS_MSG = 1, HAS_RHLC = 2, REFUSED = 4, UNHEALTHY = 8, HAS_OFF = 16,
            /** on a drop event: the events were withheld while fail-stopped (failMode refuse), not lost to a full ring */
            FAIL_STOP = 32;
    /** The drop event's cause field and its values, spelt as the kernel probe's. */

    /** The UDP "connection" of an event: its local and remote address as logged. */
    static final class UdpEndpoint {
        final String local;
        final String remote;

        UdpEndpoint(String local, String remote) {
            this.local = local;
            this.remote = remote;
        }
    }

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    final int capacity;
    private final int mask;
    private static final int STRIPE_BITS = 4, STRIPE_MASK = (1 << STRIPE_BITS) - 1;
    private final int stripeShift;
    // the slots: 8 longs each, one slot about one cache line (an event is stored, and later read by
    // the writer, in one or two lines instead of one per field); slot of ticket t at (t & mask) * 8
    static final int HLC = 0, PT = 1, BYTES = 2, MSG = 3, RHLC = 4, OFF = 5, META = 6, STATE = 7;
    /** HLC, physical time, payload bytes (the count of a drop event), message id, remote HLC,
     *  payload start offset, kind | flags << 8, and the state: t once the slot of ticket t is
     *  published, -t when it was cancelled. */
    final long[] slots;
    final Object[] ref;  // TcpConnection, UdpEndpoint or the info String

    /** The last ticket the writer is done with: its slot and every earlier one may be reused. */
    volatile long consumed;

    private final Path file;
    private final String node;
    private final String proc;
    private final Stamper stamper;
    private final java.io.OutputStream out;
    private final String nodeJson;
    private final String procJson;
    private final StringBuilder hexBuf = new StringBuilder(18);
    private static final String SRC_JSON = json(EventLogLine.SRC_AGENT);
    private static final String CAUSE_FAIL_STOP_JSON = json(EventLogLine.CAUSE_FAIL_STOP), CAUSE_RING_BUFFER_JSON = json(EventLogLine.CAUSE_RING_BUFFER_FULL);
    private static final String[] KIND_JSON = new String[KIND_NAMES.length];

    static {
        for (int i = 0; i < KIND_NAMES.length; i++) KIND_JSON[i] = json(KIND_NAMES[i]);
    }
    private final Thread writer;
    private volatile boolean closing;
    private volatile boolean finished;
    private long closingWait;
    private long written;

    EventLog(Path dir, String node, String proc, Stamper stamper, int capacity) throws IOException {
        Files.createDirectories(dir);
        this.file = dir.resolve(sanitize(node) + "-" + sanitize(proc) + ".jsonl");
        this.node = node;
        this.proc = proc;
        this.stamper = stamper;
        int c = Integer.highestOneBit(Math.max(16, capacity - 1)) << 1; // a power of two >= capacity
        if (c < capacity || c <= 0 || c > 1 << 24) c = 1 << 24;
        this.capacity = c;
        this.mask = c - 1;
        this.stripeShift = Integer.numberOfTrailingZeros(c) - STRIPE_BITS; // c >= 16
        slots = new long[c * 8];
        ref = new Object[c];
        this.out = Files.newOutputStream(file, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        this.nodeJson = json(node);
        this.procJson = json(proc);
        this.afterHlc = utf8("\",\"" + EventLogLine.NODE + "\":" + nodeJson + ",\"" + EventLogLine.PROC + "\":" + procJson + ",\"" + EventLogLine.SEQ + "\":");
        this.writer = new Thread(this::run, "hlctrace-event-log");
        writer.setDaemon(true);
    }

    void start() { writer.start(); }

    private static String sanitize(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    public Path file() { return file; }

    /** Events lost to a full ring since start. */
    public long droppedTotal() { return stamper.lostTotal(); }

    /**
     * The index of the slot of {@code ticket} in {@link #ref}. Consecutive tickets are spread over
     * the ring (the low 4 bits of the ticket pick one of 16 stripes): consecutive events are often
     * stamped by threads on different cores (a client's send, the server's receive), and adjacent
     * slots share cache lines (a slot is 64 bytes, not line-aligned; 16 references share one line),
     * which would move those lines between the cores on every event. Slots that share a line now
     * belong to tickets 16 apart.
     */
    int index(long ticket) {
        int i = (int) ticket & mask;
        return (i & STRIPE_MASK) << stripeShift | i >>> STRIPE_BITS;
    }

    /** The first of the slot's longs in {@link #slots}. */
    int base(long ticket) { return index(ticket) << 3; }

    /** Makes the slot of {@code ticket} visible to the writer (its fields are filled). */
    void publish(long ticket) {
        SLOT.setRelease(slots, base(ticket) + STATE, ticket);
    }

    /** Gives the slot back without an event. */
    void cancel(long ticket) {
        ref[index(ticket)] = null;
        SLOT.setRelease(slots, base(ticket) + STATE, -ticket);
    }

    private void run() {
        StringBuilder sb = new StringBuilder(512);
        long next = 1;
        boolean failStopped = false; // as last seen by this thread, for the messages on stderr
        try {
            while (true) {
                int n = 0;
                long state0;
                while (n < 4096 && ((state0 = (long) SLOT.getAcquire(slots, base(next) + STATE)) == next || state0 == -next)) {
                    int i = index(next);
                    if (state0 == next) write(sb, i, base(next));
                    ref[i] = null;
                    next++;
                    n++;
                }
                if (n > 0) {
                    consumed = next - 1;
                } else {
                    // nothing published at the next ticket: none taken, or a thread is between its
                    // clock tick and its field stores (or inside a non-blocking write): it comes soon
                    flushLines();
                    if (closing) {
                        if (next > stamper.claimedTotal()) {
                            if (stamper.reportLost()) continue; // the last losses, before the file ends
                            finished = true;
                            return;
                        }
                        // at exit, a slot taken by a thread that never publishes it (stopped inside a
                        // write) must not hold back the events after it, the stop event among them
                        if (closingWait == 0) closingWait = System.nanoTime() + 200_000_000L;
                        if (System.nanoTime() > closingWait) {
                            System.err.println("hlctrace agent: an event taken at exit was never completed; it is left out of " + file);
                            next++;
                            closingWait = 0;
                        } else {
                            LockSupport.parkNanos(100_000L);
                        }
                        continue;
                    }
                    // long naps, so the writer takes the CPU in few large batches rather than
                    // preempting the application's threads often (that showed in their p99 latency);
                    // the ring holds far more than 10 ms of events
                    LockSupport.parkNanos(10_000_000L);
                }
                stamper.reportLost();
                if (stamper.refusesWhenUnhealthy()) failStopped = reportFailStop(failStopped);
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("hlctrace agent: the event log writer stopped: " + e + "; events after this are lost (" + written + " written)");
            closing = true;
        }
    }

    /**
     * Fail-stop with failMode refuse: says so on stderr when it starts and ends, and once the
     * executor is healthy again reports the withheld events as a drop event (cause fail-stop).
     */
    private boolean reportFailStop(boolean wasFailStopped) {
        boolean now = stamper.unhealthyNow();
        if (now && !wasFailStopped) {
            System.err.println("hlctrace agent: the executor clock is unhealthy (clock sync failed: fail-stop) and failMode is refuse: messages go out"
                    + " without a timestamp and their events are not logged until it is healthy again (counted, then reported as a drop event in " + file + ")");
        }
        long reportedNow = stamper.reportWithheld(false);
        if (!now && wasFailStopped || reportedNow > 0) {
            System.err.println("hlctrace agent: the executor clock is healthy again: stamping resumed; " + reportedNow
                    + " events were not stamped while it was unhealthy (" + stamper.withheldTotal() + " in total), reported as a drop event with cause fail-stop");
        }
        return now;
    }

    /** A JSON string literal, rendered once for values that repeat on every line. */
    private static String json(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        EventLogLine.appendJsonString(sb, s);
        return sb.toString();
    }

    /** The conn object of a connection, rendered once (by this thread) and kept on the connection. */
    private static String connJson(String proto, String local, String remote) {
        StringBuilder sb = new StringBuilder(80).append('{');
        EventLogLine.appendJsonString(sb.append('"').append(EventLogLine.PROTO).append("\":"), proto);
        EventLogLine.appendJsonString(sb.append(",\"").append(EventLogLine.LOCAL).append("\":"), local);
        EventLogLine.appendJsonString(sb.append(",\"").append(EventLogLine.REMOTE).append("\":"), remote);
        return sb.append('}').toString();
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** A 64-bit word as a JSON string of 16 hex digits (EventLogLine.hex's form), without garbage. */
    private static StringBuilder hex(StringBuilder sb, long word) {
        sb.setLength(0);
        sb.append('"');
        for (int shift = 60; shift >= 0; shift -= 4) sb.append(HEX[(int) (word >>> shift) & 15]);
        return sb.append('"');
    }

    // The common events (send, recv, connect, accept, close of a TCP connection) are formatted
    // straight into bytes: the same layout as EventLogLine's (EventLogTest compares the two), but
    // without a builder, a String and its UTF-8 copy per line. On a machine with few cores this
    // thread's time is taken from the application's; it was about 0.8 us per event before.
    private static final byte[] LINE_START = utf8("{\"" + EventLogLine.V + "\":" + EventLogLine.SCHEMA_VERSION + ",\"" + EventLogLine.HLC + "\":\"");
    private final byte[] afterHlc;
    private static final byte[][] KIND_PT = new byte[KIND_NAMES.length][];
    private static final byte[] SRC_PART = utf8(",\"" + EventLogLine.SRC + "\":" + SRC_JSON);
    private static final byte[] MSG_PART = utf8(",\"" + EventLogLine.MSG + "\":\"");
    private static final byte[] CONN_PART = utf8(",\"" + EventLogLine.CONN + "\":");
    private static final byte[] BYTES_PART = utf8(",\"" + EventLogLine.BYTES + "\":");
    private static final byte[] OFF_PART = utf8(",\"" + EventLogLine.OFF + "\":[");
    private static final byte[] RHLC_PART = utf8(",\"" + EventLogLine.RHLC + "\":\"");
    private static final byte[] REFUSED_PART = utf8(",\"" + EventLogLine.REFUSED + "\":true");
    private static final byte[] UNHEALTHY_PART = utf8(",\"" + EventLogLine.UNHEALTHY + "\":true");

    static {
        for (int i = 0; i < KIND_NAMES.length; i++) KIND_PT[i] = utf8(",\"" + EventLogLine.KIND + "\":" + KIND_JSON[i] + ",\"" + EventLogLine.PT + "\":");
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** Lines whose constant parts are longer (absurd node or process names) take the EventLogLine path. */
    private static final int MAX_DIRECT_LINE = 1 << 14;

    /** Lines not yet handed to the file; written when nearly full and whenever the writer goes idle. */
    private final byte[] lines = new byte[1 << 16];
    private int linesEnd;

    /** The formatted lines not yet written, and forgets them (tests). */
    String takeLines() {
        String t = new String(lines, 0, linesEnd, StandardCharsets.UTF_8);
        linesEnd = 0;
        return t;
    }

    /** Forgets the formatted lines not yet written, returning their length (the writer benchmark). */
    int takeBytes() {
        int n = linesEnd;
        linesEnd = 0;
        return n;
    }

    private void flushLines() throws IOException {
        if (linesEnd > 0) out.write(lines, 0, linesEnd);
        linesEnd = 0;
    }

    /** Room for n more bytes in {@link #lines} (a longer line is written on its own). */
    private void room(int n) throws IOException {
        if (lines.length - linesEnd < n) flushLines();
    }

    private void put(byte[] b) {
        System.arraycopy(b, 0, lines, linesEnd, b.length);
        linesEnd += b.length;
    }

    private void putHex(long word) {
        linesEnd = EventLogLine.writeHex(lines, linesEnd, word);
    }

    /** A field whose part ends with its opening quote, then the word's 16 hex digits and the closing quote. */
    private void putQuotedHex(byte[] part, long word) {
        put(part);
        putHex(word);
        lines[linesEnd++] = '"';
    }

    /** Decimal, like StringBuilder.append(long); the caller's room() covers it. */
    private void putNum(long v) {
        linesEnd = EventLogLine.writeDecimal(lines, linesEnd, v);
    }

    private void write(StringBuilder sb, int i, int b) throws IOException {
        long[] s = slots;
        long meta = s[b + META];
        write(sb, (int) (meta & 0xFF), (int) (meta >>> 8 & 0xFF), s[b + HLC], s[b + PT], s[b + MSG], s[b + BYTES], s[b + OFF], s[b + RHLC], ref[i]);
    }

    /** One event's line into {@link #lines}, numbered with the next {@code seq}. */
    void write(StringBuilder sb, int k, int f, long hlc, long pt, long msg, long bytes, long off, long rhlc, Object r) throws IOException {
        byte[] cj;
        if (k <= CLOSE && r instanceof TcpConnection c
                && (cj = c.connJson != null ? c.connJson : (c.connJson = utf8(connJson(c.proto, c.local, c.remote)))).length + afterHlc.length < MAX_DIRECT_LINE) {
            room(512 + afterHlc.length + cj.length);
            put(LINE_START);
            putHex(hlc);
            put(afterHlc);
            putNum(++written);
            put(KIND_PT[k]);
            putNum(pt);
            put(SRC_PART);
            if ((f & HAS_MSG) != 0) putQuotedHex(MSG_PART, msg);
            put(CONN_PART);
            put(cj);
            if (k == SEND || k == RECV) {
                put(BYTES_PART);
                putNum(bytes);
            }
            if ((f & HAS_OFF) != 0) {
                put(OFF_PART);
                putNum(off);
                lines[linesEnd++] = ',';
                putNum(off + bytes);
                lines[linesEnd++] = ']';
            }
            if ((f & HAS_RHLC) != 0) putQuotedHex(RHLC_PART, rhlc);
            if ((f & REFUSED) != 0) put(REFUSED_PART);
            if ((f & UNHEALTHY) != 0) put(UNHEALTHY_PART);
            lines[linesEnd++] = '}';
            lines[linesEnd++] = '\n';
            return;
        }
        byte[] line = format(sb, k, f, hlc, pt, msg, bytes, off, rhlc, r, ++written)
                .getBytes(StandardCharsets.UTF_8); // a copy only: the line is ASCII but for names
        room(line.length + 1);
        if (line.length + 1 > lines.length) {
            out.write(line);
            out.write('\n');
            return;
        }
        put(line);
        lines[linesEnd++] = '\n';
    }

    /** An event as EventLogLine writes it (the reference layout; the rare kinds are written this way). */
    String format(StringBuilder sb, int k, int f, long hlc, long pt, long msg, long bytes, long off, long rhlc, Object r, long seq) {
        // the constant parts are rendered once; the line's layout stays EventLogLine's
        EventLogLine l = new EventLogLine(sb);
        l.raw(EventLogLine.HLC, hex(hexBuf, hlc)).raw(EventLogLine.NODE, nodeJson).raw(EventLogLine.PROC, procJson)
                .num(EventLogLine.SEQ, seq).raw(EventLogLine.KIND, KIND_JSON[k]).num(EventLogLine.PT, pt)
                .raw(EventLogLine.SRC, SRC_JSON);
        if ((f & HAS_MSG) != 0) l.raw(EventLogLine.MSG, hex(hexBuf, msg));
        if (r instanceof TcpConnection c) {
            l.raw(EventLogLine.CONN, connJson(c.proto, c.local, c.remote));
        } else if (r instanceof UdpEndpoint u) {
            l.raw(EventLogLine.CONN, connJson("udp", u.local, u.remote));
        }
        if (k == SEND || k == RECV) l.num(EventLogLine.BYTES, bytes);
        if ((f & HAS_OFF) != 0) l.range(EventLogLine.OFF, off, off + bytes);
        if ((f & HAS_RHLC) != 0) l.raw(EventLogLine.RHLC, hex(hexBuf, rhlc));
        if ((f & REFUSED) != 0) l.bool(EventLogLine.REFUSED, true);
        if (k == DROP) l.num(EventLogLine.DROPPED, bytes).raw(EventLogLine.CAUSE, (f & FAIL_STOP) != 0 ? CAUSE_FAIL_STOP_JSON : CAUSE_RING_BUFFER_JSON);
        if ((f & UNHEALTHY) != 0) l.bool(EventLogLine.UNHEALTHY, true);
        if (r instanceof String info) l.str(EventLogLine.INFO, info);
        else if (k == DROP && (f & FAIL_STOP) != 0) {
            l.str(EventLogLine.INFO, bytes + " events not stamped: the executor clock was unhealthy (clock sync fail-stop) and failMode is refuse;"
                    + " their messages went out without a timestamp");
        } else if (k == DROP) l.str(EventLogLine.INFO, bytes + " events lost: the event log's ring of " + capacity + " slots was full");
        return l.end();
    }

    /** Stops the writer once everything published is written (bounded wait), and flushes the file. */
    void close() {
        closing = true;
        LockSupport.unpark(writer);
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!finished) System.err.println("hlctrace agent: the event log writer did not finish within 5 s; the end of " + file + " may be missing");
    }
}
