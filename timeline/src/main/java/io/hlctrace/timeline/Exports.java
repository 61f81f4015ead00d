package io.hlctrace.timeline;

import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.HlcTimestamp;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code export --format shiviz|dot|jsonl}: the merged log in other tools' formats, streamed.
 */
public final class Exports {
    /**
     * The ShiViz parser regular expression (also the first line of the export, as ShiViz expects
     * of an uploaded file; the second line is the empty execution delimiter). Each event is two
     * lines: a description, then the host and its vector clock as JSON.
     */
    public static final String SHIVIZ_REGEX = "(?<event>.*)\\n(?<host>\\S+) (?<clock>\\{.*\\})";

    private Exports() {}

    /** The ShiViz host for a lane: node/proc without whitespace. */
    public static String shivizHost(Event e) {
        return (e.node() + "/" + e.proc()).replaceAll("\\s", "_");
    }

    /**
     * Writes the ShiViz log; vector clocks are computed from the happened-before graph (a second
     * pass over {@code files} finds the edges that go backwards in HLC order, see {@link ShivizExport}).
     */
    public static long shiviz(List<java.nio.file.Path> files, MergedEvents merged, Writer out, Diagnostics diagnostics) throws IOException {
        return ShivizExport.write(files, merged, out, diagnostics);
    }

    /**
     * Graphviz DOT: one cluster per executor (re-opened per event, which DOT merges, so the file is
     * written in one pass), process edges in black, messages in blue.
     */
    public static long dot(MergedEvents merged, Writer out, Diagnostics diagnostics) throws IOException {
        out.write("digraph hlctrace {\n  rankdir=TB;\n  node [shape=box, fontsize=9, fontname=\"monospace\"];\n");
        Map<String, Integer> laneIds = new HashMap<>();
        Map<String, Integer> nodeIds = new HashMap<>();
        List<String> pendingEdges = new ArrayList<>();
        EdgeFinder finder = new EdgeFinder((from, to, kind) -> pendingEdges.add("  " + dotId(laneIds, from) + " -> " + dotId(laneIds, to)
                + (kind == Edge.Kind.MESSAGE ? " [color=blue" + (ClockKind.HLC.forward(from, to) ? "" : ", color=red, penwidth=2") + "]" : "")
                + ";\n"), diagnostics);
        long n = 0;
        for (Event e; (e = merged.next()) != null; ) {
            pendingEdges.clear();
            if (!finder.accept(e)) continue;
            int cluster = nodeIds.computeIfAbsent(e.node(), k -> nodeIds.size());
            out.write("  subgraph cluster_" + cluster + " { label=" + dotString(e.node()) + "; " + dotId(laneIds, e) + " [label="
                    + dotString(e.proc() + "\n" + e.kind() + " #" + e.seq() + "\n" + HlcTimestamp.toSortableString(e.hlc()))
                    + (e.refused() ? ", color=orange, style=filled" : "") + "]; }\n");
            for (String s : pendingEdges) out.write(s);
            n++;
        }
        finder.finish();
        out.write("}\n");
        return n;
    }

    private static String dotId(Map<String, Integer> laneIds, Event e) {
        return "e" + laneIds.computeIfAbsent(e.lane(), k -> laneIds.size()) + "_" + e.seq();
    }

    private static String dotString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c == '\n') sb.append("\\n");
            else if (c >= 0x20) sb.append(c);
        }
        return sb.append('"').toString();
    }

    /** The merged log as event-log lines, each with {@code "origin":"file:line"} added. */
    public static long jsonl(MergedEvents merged, Writer out) throws IOException {
        long n = 0;
        StringBuilder sb = new StringBuilder(300);
        for (Event e; (e = merged.next()) != null; ) {
            String line = e.toJsonLine();
            sb.setLength(0);
            sb.append(line, 0, line.length() - 1).append(",\"").append(ORIGIN).append("\":");
            EventLogLine.appendJsonString(sb, e.where());
            sb.append("}\n");
            out.write(sb.toString());
            n++;
        }
        return n;
    }

    /** Field added by the jsonl export: where the event was read. */
    public static final String ORIGIN = "origin";
}
