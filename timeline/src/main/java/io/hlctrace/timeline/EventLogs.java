package io.hlctrace.timeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading event logs. {@link #readAll} loads small inputs into a list (tests, the demo);
 * {@link #merge} and {@link #reader} stream, for logs of any size. Problems with the input
 * (malformed lines, truncated last line, unknown fields, a newer {@code v}, duplicates) become
 * located diagnostics {@code file:line: what}; the rest is read.
 */
public final class EventLogs {
    private EventLogs() {}

    /** All events of the files in the merged total order (HLC, node, proc, seq); problems are dropped. */
    public static List<Event> readAll(List<Path> files) throws IOException {
        return readAll(files, new Diagnostics());
    }

    /** All events of the files in the merged total order; problems go to {@code diagnostics}. */
    public static List<Event> readAll(List<Path> files, Diagnostics diagnostics) throws IOException {
        List<Event> out = new ArrayList<>();
        try (MergedEvents m = merge(files, diagnostics)) {
            for (Event e; (e = m.next()) != null; ) out.add(e);
        }
        return out;
    }

    /** The k-way merge of the files in bounded memory. */
    public static MergedEvents merge(List<Path> files, Diagnostics diagnostics) throws IOException {
        return new MergedEvents(files, diagnostics);
    }

    /** The events of one file in file order. */
    public static EventLogReader reader(Path file, Diagnostics diagnostics) throws IOException {
        return new EventLogReader(file, file.toString(), diagnostics);
    }
}
