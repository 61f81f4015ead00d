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
        slots = new long[c * 8];
        ref = new Object[c];
        this.out = new java.io.BufferedOutputStream(Files.newOutputStream(file,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND), 1 << 16);
        this.nodeJson = json(node);
        this.procJson = json(proc);
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

    /** The index of the slot of {@code ticket} in {@link #ref}. */
    int index(long ticket) { return (int) ticket & mask; }

    /** The first of the slot's longs in {@link #slots}. */
    int base(long ticket) { return ((int) ticket & mask) << 3; }

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
        long reported = 0;
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
                    out.flush();
                    if (closing) {
                        if (next > stamper.claimedTotal()) {
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
                long lostNow = stamper.lostTotal();
                if (lostNow > reported && stamper.logDrop(lostNow - reported)) reported = lostNow;
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

    private void write(StringBuilder sb, int i, int b) throws IOException {
        long[] s = slots;
        int k = (int) (s[b + META] & 0xFF);
        int f = (int) (s[b + META] >>> 8 & 0xFF);
        // the constant parts are rendered once; the line's layout stays EventLogLine's
        EventLogLine l = new EventLogLine(sb);
        l.raw(EventLogLine.HLC, hex(hexBuf, s[b + HLC])).raw(EventLogLine.NODE, nodeJson).raw(EventLogLine.PROC, procJson)
                .num(EventLogLine.SEQ, ++written).raw(EventLogLine.KIND, KIND_JSON[k]).num(EventLogLine.PT, s[b + PT])
                .raw(EventLogLine.SRC, SRC_JSON);
        if ((f & HAS_MSG) != 0) l.raw(EventLogLine.MSG, hex(hexBuf, s[b + MSG]));
        Object r = ref[i];
        if (r instanceof TcpConnection c) {
            String cj = c.connJson;
            if (cj == null) c.connJson = cj = connJson(c.proto, c.local, c.remote);
            l.raw(EventLogLine.CONN, cj);
        } else if (r instanceof UdpEndpoint u) {
            l.raw(EventLogLine.CONN, connJson("udp", u.local, u.remote));
        }
        if (k == SEND || k == RECV) l.num(EventLogLine.BYTES, s[b + BYTES]);
        if ((f & HAS_OFF) != 0) l.range(EventLogLine.OFF, s[b + OFF], s[b + OFF] + s[b + BYTES]);
        if ((f & HAS_RHLC) != 0) l.raw(EventLogLine.RHLC, hex(hexBuf, s[b + RHLC]));
        if ((f & REFUSED) != 0) l.bool(EventLogLine.REFUSED, true);
        if (k == DROP) l.num(EventLogLine.DROPPED, s[b + BYTES]).raw(EventLogLine.CAUSE, (f & FAIL_STOP) != 0 ? CAUSE_FAIL_STOP_JSON : CAUSE_RING_BUFFER_JSON);
        if ((f & UNHEALTHY) != 0) l.bool(EventLogLine.UNHEALTHY, true);
        if (r instanceof String info) l.str(EventLogLine.INFO, info);
        else if (k == DROP && (f & FAIL_STOP) != 0) {
            l.str(EventLogLine.INFO, s[b + BYTES] + " events not stamped: the executor clock was unhealthy (clock sync fail-stop) and failMode is refuse;"
                    + " their messages went out without a timestamp");
        } else if (k == DROP) l.str(EventLogLine.INFO, s[b + BYTES] + " events lost: the event log's ring of " + capacity + " slots was full");
        byte[] line = l.end().getBytes(StandardCharsets.UTF_8); // a copy only: the line is ASCII but for names
        out.write(line);
        out.write('\n');
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
