package io.hlctrace.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import io.hlctrace.hlc.HlcTimestamp;

/** A probe event log read back for assertions (JSON is YAML, so SnakeYAML reads the lines). */
final class EventLog {
    record Event(Map<String, Object> raw) {
        String kind() { return (String) raw.get("kind"); }
        String node() { return (String) raw.get("node"); }
        String proc() { return (String) raw.get("proc"); }
        long hlc() { return HlcTimestamp.fromHex((String) raw.get("hlc")); }
        long pt() { return ((Number) raw.get("pt")).longValue(); }
        long seq() { return ((Number) raw.get("seq")).longValue(); }
        @SuppressWarnings("unchecked") Map<String, Object> conn() { return (Map<String, Object>) raw.get("conn"); }
        String local() { return (String) conn().get("local"); }
        String remote() { return (String) conn().get("remote"); }
        @SuppressWarnings("unchecked") long offStart() { return ((Number) ((List<Object>) raw.get("off")).get(0)).longValue(); }
        @SuppressWarnings("unchecked") long offEnd() { return ((Number) ((List<Object>) raw.get("off")).get(1)).longValue(); }
        long bytes() { return ((Number) raw.get("bytes")).longValue(); }
        boolean refused() { return Boolean.TRUE.equals(raw.get("refused")); }
        Long rhlc() { return raw.get("rhlc") == null ? null : HlcTimestamp.fromHex((String) raw.get("rhlc")); }
        boolean message() { return "send".equals(kind()) || "recv".equals(kind()); }
        @Override public String toString() { return raw.toString(); }
    }

    static List<Event> read(Path file) throws IOException {
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        List<Event> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) continue;
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) yaml.load(line);
            out.add(new Event(m));
        }
        return out;
    }

    /** Messages on one connection (seen from the given local endpoint), in one direction. */
    static List<Event> on(List<Event> log, String kind, String local, String remote) {
        return log.stream().filter(e -> kind.equals(e.kind()) && local.equals(e.local()) && remote.equals(e.remote()))
                .sorted(Comparator.comparingLong(Event::offStart)).toList();
    }

    /**
     * Pairs every send with the receives of the same bytes on the other executor (off ranges of
     * the reversed connection) and checks: the bytes are covered exactly, and each receive's HLC
     * is above the send's. Returns the number of (send, recv) pairs; failures go to problems.
     */
    static int pair(List<Event> sends, List<Event> recvs, List<String> problems) {
        int pairs = 0;
        int j = 0;
        for (Event s : sends) {
            while (j < recvs.size() && recvs.get(j).offEnd() <= s.offStart()) j++;
            long covered = 0;
            for (int k = j; k < recvs.size() && recvs.get(k).offStart() < s.offEnd(); k++) {
                Event r = recvs.get(k);
                covered += Math.min(r.offEnd(), s.offEnd()) - Math.max(r.offStart(), s.offStart());
                pairs++;
                if (Long.compareUnsigned(r.hlc(), s.hlc()) <= 0 && problems.size() < 20) {
                    problems.add("receive not above its send: " + s + " -> " + r);
                }
            }
            if (covered != s.bytes() && problems.size() < 20) problems.add("send's bytes not all received (" + covered + " of " + s.bytes() + "): " + s);
        }
        return pairs;
    }

    /** HLC strictly increasing along seq within each process. */
    static List<String> processOrderViolations(List<Event> log) {
        Map<String, Event> last = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (Event e : log) {
            Event prev = last.put(e.node() + "/" + e.proc(), e);
            if (prev != null && (e.seq() != prev.seq() + 1 || Long.compareUnsigned(e.hlc(), prev.hlc()) <= 0) && problems.size() < 20) {
                problems.add("process order broken: " + prev + " then " + e);
            }
        }
        return problems;
    }
}
