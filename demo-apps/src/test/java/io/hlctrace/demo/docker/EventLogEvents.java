package io.hlctrace.demo.docker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The fields of docs/event-log.md the container tests check, read from JSON Lines event logs. The
 * writers (io.hlctrace.hlc.EventLogLine) put every field on one line with no nesting beyond
 * {@code conn}, so field patterns suffice here; a line without the fields every event has fails.
 */
record EventLogEvents(Path file, int line, String node, String proc, long seq, String kind, String hlc, long bytes,
                      long offStart, long offEnd, String local, String remote, String src) {
    private static final Pattern STR = Pattern.compile("\"(node|proc|kind|hlc|local|remote|src)\":\"([^\"]*)\"");
    private static final Pattern NUM = Pattern.compile("\"(seq|bytes)\":(\\d+)");
    private static final Pattern OFF = Pattern.compile("\"off\":\\[(\\d+),(\\d+)]");

    long hlcWord() { return Long.parseUnsignedLong(hlc, 16); }

    boolean remotePort(int port) { return remote != null && remote.endsWith(":" + port); }

    static List<EventLogEvents> readAll(Path dir) throws IOException {
        List<EventLogEvents> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) all.addAll(read(f));
        }
        return all;
    }

    static List<EventLogEvents> read(Path file) throws IOException {
        List<EventLogEvents> events = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank()) continue;
            String node = null, proc = null, kind = null, hlc = null, local = null, remote = null, src = null;
            long seq = -1, bytes = 0, offStart = -1, offEnd = -1;
            Matcher m = STR.matcher(line);
            while (m.find()) {
                switch (m.group(1)) {
                    case "node" -> node = m.group(2);
                    case "proc" -> proc = m.group(2);
                    case "kind" -> kind = m.group(2);
                    case "hlc" -> hlc = m.group(2);
                    case "local" -> local = m.group(2);
                    case "remote" -> remote = m.group(2);
                    default -> src = m.group(2);
                }
            }
            m = NUM.matcher(line);
            while (m.find()) {
                if (m.group(1).equals("seq")) seq = Long.parseLong(m.group(2));
                else bytes = Long.parseLong(m.group(2));
            }
            m = OFF.matcher(line);
            if (m.find()) {
                offStart = Long.parseLong(m.group(1));
                offEnd = Long.parseLong(m.group(2));
            }
            if (node == null || proc == null || kind == null || hlc == null || seq < 0) {
                throw new IOException(file + ":" + n + ": not an event (node, proc, seq, kind and hlc are required): " + line);
            }
            events.add(new EventLogEvents(file, n, node, proc, seq, kind, hlc, bytes, offStart, offEnd, local, remote, src));
        }
        return events;
    }
}
