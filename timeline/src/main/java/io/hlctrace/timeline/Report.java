package io.hlctrace.timeline;

import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.HlcTimestamp;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code report -o report.html}: one self-contained HTML file (inline CSS, inline script, no
 * network) with a space-time diagram and a summary. The summary covers every event (streamed
 * through {@link Verify}); the diagram draws the first {@code maxEvents} events in HLC order.
 */
public final class Report {
    public static final int DEFAULT_MAX_EVENTS = 2000;

    private Report() {}

    public static void write(MergedEvents merged, Writer out, int maxEvents, List<String> inputs, Diagnostics diagnostics) throws IOException {
        Verify.Verifier hlcCheck = Verify.streaming(ClockKind.HLC, diagnostics);
        Verify.Verifier wallCheck = Verify.streaming(ClockKind.WALL, new Diagnostics(0));
        List<Event> kept = new ArrayList<>();
        for (Event e; (e = merged.next()) != null; ) {
            hlcCheck.accept(e);
            wallCheck.accept(e);
            if (kept.size() < maxEvents) kept.add(e);
        }
        Verify.Result hlc = hlcCheck.finish();
        Verify.Result wall = wallCheck.finish();
        out.write(html(kept, hlc, wall, inputs, diagnostics));
    }

    static String html(List<Event> kept, Verify.Result hlc, Verify.Result wall, List<String> inputs, Diagnostics diagnostics) {
        HappenedBefore hb = HappenedBefore.of(kept, new Diagnostics(0));
        List<Event> events = new ArrayList<>(hb.events());
        events.sort(ClockKind.HLC_ORDER);
        Map<Event, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < events.size(); i++) index.put(events.get(i), i);

        // lanes grouped by executor, executors and lanes in name order
        TreeMap<String, TreeMap<String, Integer>> lanes = new TreeMap<>();
        for (Event e : events) lanes.computeIfAbsent(e.node(), k -> new TreeMap<>()).put(e.proc(), 0);
        List<String[]> laneList = new ArrayList<>();
        Map<String, Integer> laneIndex = new HashMap<>();
        for (var n : lanes.entrySet()) {
            for (String p : n.getValue().keySet()) {
                laneIndex.put(n.getKey() + "/" + p, laneList.size());
                laneList.add(new String[]{n.getKey(), p});
            }
        }
        List<Event> byPt = new ArrayList<>(events);
        byPt.sort(ClockKind.WALL::compare);
        Map<Event, Integer> ptRank = new IdentityHashMap<>();
        for (int i = 0; i < byPt.size(); i++) ptRank.put(byPt.get(i), i);

        StringBuilder j = new StringBuilder(events.size() * 200 + 4096);
        j.append("{\"lanes\":[");
        for (int i = 0; i < laneList.size(); i++) {
            if (i > 0) j.append(',');
            j.append("{\"node\":");
            str(j, laneList.get(i)[0]);
            j.append(",\"proc\":");
            str(j, laneList.get(i)[1]);
            j.append('}');
        }
        j.append("],\"events\":[");
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            if (i > 0) j.append(',');
            j.append("{\"lane\":").append(laneIndex.get(e.lane())).append(",\"kind\":");
            str(j, e.kind());
            j.append(",\"seq\":").append(e.seq()).append(",\"hlc\":");
            str(j, HlcTimestamp.toHex(e.hlc()));
            j.append(",\"hlcText\":");
            str(j, HlcTimestamp.toSortableString(e.hlc()));
            j.append(",\"pt\":");
            str(j, Long.toString(e.pt()));
            j.append(",\"ptText\":");
            str(j, ptText(e.pt()));
            j.append(",\"ahead\":");
            str(j, aheadText(e.hlcAheadOfPtNanos()));
            j.append(",\"ptRank\":").append(ptRank.get(e)).append(",\"at\":");
            str(j, e.where());
            if (e.msg() != null) { j.append(",\"msg\":"); str(j, e.msg()); }
            if (e.refused()) j.append(",\"refused\":true");
            if (e.unhealthy()) j.append(",\"unhealthy\":true");
            if (e.hasRhlc()) { j.append(",\"rhlc\":"); str(j, HlcTimestamp.toSortableString(e.rhlc())); }
            if (e.info() != null) { j.append(",\"info\":"); str(j, e.info()); }
            j.append('}');
        }
        j.append("],\"edges\":[");
        boolean first = true;
        for (Edge edge : hb.edges()) {
            if (edge.kind() != Edge.Kind.MESSAGE) continue;
            if (!first) j.append(',');
            first = false;
            j.append("{\"from\":").append(index.get(edge.from())).append(",\"to\":").append(index.get(edge.to()))
                    .append(",\"hlcBad\":").append(!ClockKind.HLC.forward(edge.from(), edge.to()))
                    .append(",\"wallBad\":").append(!ClockKind.WALL.forward(edge.from(), edge.to())).append('}');
        }
        j.append("],\"processBad\":[");
        first = true;
        for (Edge edge : hb.edges()) {
            if (edge.kind() != Edge.Kind.PROCESS || ClockKind.HLC.forward(edge.from(), edge.to())) continue;
            if (!first) j.append(',');
            first = false;
            j.append(index.get(edge.to()));
        }
        j.append("]}");

        String page = template();
        List<String> names = inputs.stream().map(f -> { Path p = Path.of(f).getFileName(); return p == null ? f : p.toString(); }).toList();
        return page.replace("<title>hlctrace timeline: /*TITLE*/", "<title>hlctrace timeline: " + esc(String.join(" ", names)))
                .replace("/*TITLE*/", "<span title=\"" + esc(String.join("\n", inputs)) + "\">" + inputs.size() + " logs: " + esc(String.join(", ", names)) + "</span>")
                .replace("<!--SUMMARY-->", summary(hlc, wall, events.size(), diagnostics))
                .replace("/*DATA*/", j.toString().replace("</", "<\\/"));
    }

    private static String summary(Verify.Result hlc, Verify.Result wall, int drawn, Diagnostics diagnostics) {
        StringBuilder s = new StringBuilder();
        s.append("<table class=\"summary\"><tr><th>executor</th><th>events</th><th>largest l &minus; pt</th><th>largest c</th>"
                + "<th>refused</th><th>unhealthy</th><th>dropped</th></tr>");
        for (Stats.Node n : hlc.stats().nodes().values()) {
            s.append("<tr><td>").append(esc(n.node)).append("</td><td>").append(n.events).append("</td><td>").append(esc(aheadText(n.maxAheadNanos)))
                    .append("</td><td>").append(n.maxC).append("</td><td class=\"").append(n.refused > 0 ? "warn" : "").append("\">").append(n.refused)
                    .append("</td><td class=\"").append(n.unhealthy > 0 ? "warn" : "").append("\">").append(n.unhealthy)
                    .append("</td><td class=\"").append(n.dropped > 0 ? "warn" : "").append("\">").append(n.dropped).append("</td></tr>");
        }
        s.append("</table><table class=\"summary\"><tr><th>events</th><th>drawn</th><th>edges checked</th><th>violations in HLC order</th>"
                + "<th>violations in physical-time order</th><th>unmatched sends</th><th>unmatched receives</th><th>input problems</th></tr><tr><td>")
                .append(hlc.events()).append("</td><td>").append(drawn).append("</td><td>").append(hlc.edgesChecked())
                .append("</td><td id=\"hlc-violations\" class=\"").append(hlc.violationCount() > 0 ? "bad" : "good").append("\">").append(hlc.violationCount())
                .append("</td><td class=\"").append(wall.violationCount() > 0 ? "bad" : "good").append("\">").append(wall.violationCount())
                .append("</td><td>").append(hlc.unmatchedSends()).append("</td><td>").append(hlc.unmatchedRecvs())
                .append("</td><td class=\"").append(diagnostics.errorCount() > 0 ? "warn" : "").append("\">").append(diagnostics.errorCount())
                .append(" errors, ").append(diagnostics.warningCount()).append(" warnings</td></tr></table>");
        if (!hlc.violations().isEmpty() || !diagnostics.isEmpty()) {
            s.append("<details><summary>violations and input problems</summary><pre>");
            int n = 0;
            for (Verify.Violation v : hlc.violations()) { if (n++ >= 200) break; s.append(esc(v.describe())).append('\n'); }
            for (Diagnostic d : diagnostics.list()) { if (n++ >= 400) break; s.append(esc(d.toString())).append('\n'); }
            s.append("</pre></details>");
        }
        return s.toString();
    }

    static String ptText(long pt) {
        Instant i = Instant.ofEpochSecond(Math.floorDiv(pt, 1_000_000_000L), Math.floorMod(pt, 1_000_000_000L));
        return i.toString();
    }

    /** A signed duration for people: 350.2 ms, -1.6 us, 2.000 s. */
    static String aheadText(long nanos) {
        if (nanos == Long.MIN_VALUE) return "-";
        double a = Math.abs((double) nanos);
        if (a < 50) return "0.0 \u00b5s";
        if (a < 1_000_000) return String.format(java.util.Locale.ROOT, "%.1f \u00b5s", nanos / 1e3);
        if (a < 1_000_000_000) return String.format(java.util.Locale.ROOT, "%.1f ms", nanos / 1e6);
        return String.format(java.util.Locale.ROOT, "%.3f s", nanos / 1e9);
    }

    private static void str(StringBuilder sb, String s) { EventLogLine.appendJsonString(sb, s); }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String template() {
        try (InputStream in = Report.class.getResourceAsStream("report-template.html")) {
            if (in == null) throw new IllegalStateException("report-template.html is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
