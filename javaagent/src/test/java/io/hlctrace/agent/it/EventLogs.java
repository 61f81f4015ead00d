package io.hlctrace.agent.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Reads the agent's JSON Lines logs into flat maps (conn's inner fields come up as proto/local/remote). */
final class EventLogs {
    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":(\"((?:[^\"\\\\]|\\\\.)*)\"|\\[(-?\\d+),(-?\\d+)\\]|-?\\d+|true|false)");

    static List<Map<String, String>> read(Path dir) throws IOException {
        List<Map<String, String>> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                long lastSeq = 0;
                long lastHlc = 0;
                for (String line : Files.readAllLines(f)) {
                    if (!line.startsWith("{\"v\":1,") || !line.endsWith("}")) throw new AssertionError("malformed event line in " + f + ": " + line);
                    Map<String, String> m = new HashMap<>();
                    Matcher x = FIELD.matcher(line);
                    while (x.find()) {
                        String v = x.group(3) != null ? x.group(3) : x.group(4) != null ? x.group(4) + "," + x.group(5) : x.group(2);
                        m.put(x.group(1), v);
                    }
                    m.put("_file", f.getFileName().toString());
                    // one process's events: seq counts 1, 2, 3, ... and the HLC rises with it (the
                    // stamper takes its tickets without a lock; ticket order must still be HLC order)
                    long seq = Long.parseLong(m.get("seq"));
                    if (seq != lastSeq + 1) throw new AssertionError("seq " + seq + " after " + lastSeq + " in " + f + ": " + line);
                    long h = hlc(m);
                    if (lastSeq > 0 && Long.compareUnsigned(h, lastHlc) <= 0) {
                        throw new AssertionError("hlc " + m.get("hlc") + " not above the previous event's " + Long.toHexString(lastHlc) + " in " + f + ": " + line);
                    }
                    lastSeq = seq;
                    lastHlc = h;
                    out.add(m);
                }
            }
        }
        return out;
    }

    static List<Map<String, String>> kind(List<Map<String, String>> events, String kind) {
        return events.stream().filter(e -> kind.equals(e.get("kind"))).toList();
    }

    static Map<String, Map<String, String>> byMsg(List<Map<String, String>> events, String kind) {
        Map<String, Map<String, String>> m = new HashMap<>();
        for (Map<String, String> e : kind(events, kind)) {
            if (e.containsKey("msg") && m.put(e.get("msg"), e) != null) throw new AssertionError("two " + kind + " events with msg " + e.get("msg"));
        }
        return m;
    }

    static long hlc(Map<String, String> e) {
        return Long.parseUnsignedLong(e.get("hlc"), 16);
    }

    /**
     * Every receive is framed (has a msg), has its send, and orders after it; returns the receives.
     * {@code framedBecause} says why the connection must be framed, for the failure message.
     */
    static List<Map<String, String>> assertFramedReceivesFollowTheirSends(List<Map<String, String>> events, String framedBecause) {
        Map<String, Map<String, String>> sends = byMsg(events, "send");
        List<Map<String, String>> recvs = kind(events, "recv");
        if (recvs.isEmpty()) throw new AssertionError("no receive events at all");
        for (Map<String, String> r : recvs) {
            if (r.get("msg") == null) throw new AssertionError(framedBecause + ": " + r);
            Map<String, String> s = sends.get(r.get("msg"));
            if (s == null) throw new AssertionError("receive without its send: " + r);
            if (Long.compareUnsigned(hlc(r), hlc(s)) <= 0) throw new AssertionError("receive before its send: " + r);
        }
        return recvs;
    }
}
