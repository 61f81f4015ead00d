package io.hlctrace.timeline;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The k-way merge of any number of event logs into one total order: HLC, then node, proc, seq
 * ({@link ClockKind#HLC_ORDER}). Memory is one buffer and one head event per file plus a heap of
 * k entries, whatever the size of the files.
 *
 * <p>Each file is read in its own order; the merge assumes every file is already in HLC order, as
 * writers produce them. Where a file's HLC goes backwards, the event is still delivered (right
 * after the file's previous event), a warning names the line, and {@code verify} reports the
 * process-order violation if it is one.
 */
public final class MergedEvents implements Closeable {
    private final List<EventLogReader> readers = new ArrayList<>();
    private final Diagnostics diagnostics;
    // a binary min-heap of the readers that still have a head event
    private EventLogReader[] heap;
    private Event[] heads;
    private int size;
    private EventLogReader current;
    private long delivered;

    /**
     * Opens every file first, so an unreadable one fails before any output.
     *
     * @throws IOException naming the file that cannot be read
     */
    public MergedEvents(List<Path> files, Diagnostics diagnostics) throws IOException {
        this.diagnostics = diagnostics;
        StringTable strings = new StringTable();
        try {
            for (Path f : files) readers.add(new EventLogReader(f, f.toString(), diagnostics, strings));
        } catch (IOException e) {
            close();
            throw e;
        }
        heap = new EventLogReader[readers.size()];
        heads = new Event[readers.size()];
        for (EventLogReader r : readers) {
            Event e = r.next();
            if (e != null) push(r, e);
        }
    }

    /** The next event of the total order, or null when every file is done. */
    public Event next() throws IOException {
        if (current != null) {
            EventLogReader r = current;
            Event prev = r.lastReturned;
            Event e = r.next();
            if (e != null) {
                if (Long.compareUnsigned(e.hlc(), prev.hlc()) < 0) {
                    diagnostics.warning(e.file(), e.line(), "hlc goes backwards within this file (line " + prev.line()
                            + " has a larger one); the merged order is not sorted here");
                }
                push(r, e);
            }
            current = null;
        }
        if (size == 0) return null;
        EventLogReader r = heap[0];
        Event e = heads[0];
        size--;
        if (size > 0) {
            heap[0] = heap[size];
            heads[0] = heads[size];
            siftDown(0);
        }
        heap[size] = null;
        heads[size] = null;
        current = r;
        r.lastReturned = e;
        delivered++;
        return e;
    }

    /** Writes the original line of the event last returned by {@link #next()}. */
    public void writeCurrentLine(OutputStream out) throws IOException {
        current.writeCurrentLine(out);
    }

    public long delivered() { return delivered; }

    public long linesSkipped() {
        long n = 0;
        for (EventLogReader r : readers) n += r.linesSkipped();
        return n;
    }

    private void push(EventLogReader r, Event e) {
        int i = size++;
        heap[i] = r;
        heads[i] = e;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (ClockKind.HLC.compare(heads[parent], heads[i]) <= 0) break;
            swap(i, parent);
            i = parent;
        }
    }

    private void siftDown(int i) {
        for (;;) {
            int l = 2 * i + 1, m = i;
            if (l < size && ClockKind.HLC.compare(heads[l], heads[m]) < 0) m = l;
            if (l + 1 < size && ClockKind.HLC.compare(heads[l + 1], heads[m]) < 0) m = l + 1;
            if (m == i) return;
            swap(i, m);
            i = m;
        }
    }

    private void swap(int a, int b) {
        EventLogReader r = heap[a]; heap[a] = heap[b]; heap[b] = r;
        Event e = heads[a]; heads[a] = heads[b]; heads[b] = e;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (EventLogReader r : readers) {
            try { r.close(); } catch (IOException e) { if (first == null) first = e; }
        }
        if (first != null) throw first;
    }
}
