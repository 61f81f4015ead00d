package io.hlctrace.agent;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import io.hlctrace.hlc.EventLogLine;

/**
 * The process's event log (docs/event-log.md): application threads only stamp and enqueue; one
 * daemon thread formats and writes the JSON lines. When the bounded queue is full the event is
 * counted, and the writer reports the count as a {@code drop} event, so a loss is never silent.
 */
public final class EventLog {
    /** One event as stamped on the application thread; formatted later by the writer. */
    public static final class Event {
        String kind;
        long hlc;
        long pt;
        long seq;
        TcpConnection conn;
        String proto;
        String local;
        String remote;
        long bytes = -1;
        long msg;
        boolean hasMsg;
        long rhlc;
        boolean hasRhlc;
        boolean refused;
        long offStart = -1;
        long offEnd;
        String info;
        long dropped = -1;
        boolean unhealthy;
    }

    // lock-free: application threads never wait on the writer; the bound is kept by the counter
    private final java.util.concurrent.ConcurrentLinkedQueue<Event> queue = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
    private final int capacity;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final Path file;
    private final String node;
    private final String proc;
    private final Stamper stamper;
    private final BufferedWriter out;
    private final Thread writer;
    private volatile boolean closing;

    EventLog(Path dir, String node, String proc, Stamper stamper, int capacity) throws IOException {
        Files.createDirectories(dir);
        this.file = dir.resolve(sanitize(node) + "-" + sanitize(proc) + ".jsonl");
        this.node = node;
        this.proc = proc;
        this.stamper = stamper;
        this.capacity = capacity;
        this.out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(file,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND), StandardCharsets.UTF_8), 1 << 16);
        this.writer = new Thread(this::run, "hlctrace-event-log");
        writer.setDaemon(true);
    }

    void start() { writer.start(); }

    private static String sanitize(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    public Path file() { return file; }

    /** Events lost to a full queue since start. */
    public long droppedTotal() { return dropped.get(); }

    public void offer(Event e) {
        if (closing || queued.incrementAndGet() > capacity) {
            if (!closing) queued.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        queue.offer(e);
    }

    private int drainTo(List<Event> batch, int max) {
        int n = 0;
        Event e;
        while (n < max && (e = queue.poll()) != null) {
            batch.add(e);
            n++;
        }
        if (n > 0) queued.addAndGet(-n);
        return n;
    }

    private void run() {
        StringBuilder sb = new StringBuilder(512);
        List<Event> batch = new ArrayList<>(1024);
        long reported = 0;
        try {
            while (true) {
                // polling instead of blocking on the queue: an offer then never wakes this thread, so
                // application threads pay no context switch per event
                drainTo(batch, 4096);
                if (batch.isEmpty()) {
                    if (closing && queue.isEmpty()) { out.flush(); return; }
                    java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
                } else {
                    for (Event e : batch) write(sb, e);
                    batch.clear();
                }
                long d = dropped.get();
                if (d > reported) {
                    write(sb, stamper.dropEvent(d - reported));
                    reported = d;
                }
                if (queue.isEmpty()) out.flush();
            }
        } catch (IOException e) {
            System.err.println("hlctrace agent: the event log writer stopped: " + e + "; events after this are lost (counted: " + dropped.get() + ")");
        }
    }

    private void write(StringBuilder sb, Event e) throws IOException {
        EventLogLine l = new EventLogLine(sb);
        l.hlc(e.hlc).str(EventLogLine.NODE, node).str(EventLogLine.PROC, proc).num(EventLogLine.SEQ, e.seq)
                .str(EventLogLine.KIND, e.kind).num(EventLogLine.PT, e.pt).str(EventLogLine.SRC, EventLogLine.SRC_AGENT);
        if (e.hasMsg) l.hex(EventLogLine.MSG, e.msg);
        if (e.conn != null) l.conn(e.conn.proto, e.conn.local, e.conn.remote);
        else if (e.proto != null) l.conn(e.proto, e.local, e.remote);
        if (e.bytes >= 0) l.num(EventLogLine.BYTES, e.bytes);
        if (e.offStart >= 0) l.range(EventLogLine.OFF, e.offStart, e.offEnd);
        if (e.hasRhlc) l.hex(EventLogLine.RHLC, e.rhlc);
        if (e.refused) l.bool(EventLogLine.REFUSED, true);
        if (e.dropped >= 0) l.num(EventLogLine.DROPPED, e.dropped);
        if (e.unhealthy) l.bool(EventLogLine.UNHEALTHY, true);
        if (e.info != null) l.str(EventLogLine.INFO, e.info);
        out.write(l.end());
        out.write('\n');
        written.incrementAndGet();
    }

    /** Stops accepting events, writes what is queued (bounded wait), and closes the file. */
    void close(Event stop) {
        queue.offer(stop); // past the bound on purpose: the stop event is never dropped
        closing = true;
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
