package io.hlctrace.timeline;

import io.hlctrace.hlc.Causality;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.VectorClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** Logs from {@link Simulator} runs, whose true vector clocks say what happened before what. */
class SimulatedLogsTest {
    @TempDir Path dir;

    record Run(int code, String out, String err) {}

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String[] args(List<Path> files, String... first) {
        List<String> a = new ArrayList<>(List.of(first));
        files.forEach(f -> a.add(f.toString()));
        return a.toArray(String[]::new);
    }

    @Test
    void verifyAcceptsEveryHlcOrderedLogAndFindsExactlyTheTrueEdges() throws IOException {
        for (long seed = 1; seed <= 6; seed++) {
            Path d = Files.createDirectories(dir.resolve("s" + seed));
            Simulator sim = Simulator.run(Simulator.Config.small(seed), d);
            Diagnostics diag = new Diagnostics();
            List<Event> events = EventLogs.readAll(sim.files, diag);
            assertTrue(diag.isEmpty(), "simulated logs are clean: " + diag);
            assertEquals(sim.events, events.size());
            for (int i = 1; i < events.size(); i++) assertTrue(ClockKind.HLC_ORDER.compare(events.get(i - 1), events.get(i)) < 0, "readAll is in HLC order");

            HappenedBefore hb = HappenedBefore.of(events);
            Map<String, String> found = new HashMap<>();
            for (Edge e : hb.messageEdges()) assertNull(found.put(Simulator.key(e.to()), Simulator.key(e.from())), "one send per receive");
            assertEquals(sim.messageEdges, found, "message edges are exactly the simulated deliveries (seed " + seed + ")");
            long lanes = events.stream().map(Event::lane).distinct().count();
            assertEquals(events.size() - lanes, hb.edges().size() - hb.messageEdges().size(), "process edges");
            long sends = sim.truth.values().stream().filter(t -> t.sendOf() == null).count();
            assertTrue(hb.unmatchedSends() > 0 || sim.messageEdges.size() > 0);

            for (ClockKind clock : List.of(ClockKind.HLC, ClockKind.LAMPORT, ClockKind.VECTOR)) {
                Verify.Result r = Verify.check(events, clock);
                assertTrue(r.consistent(), clock + " order of a simulated log is consistent: " + r.violations());
                assertEquals(hb.edges().size(), r.edgesChecked());
                Run cli = cli(args(sim.files, "verify", "--clock", clock.label()));
                assertEquals(0, cli.code(), cli.out() + cli.err());
                assertTrue(cli.out().contains(hb.edges().size() + " happened-before edges checked, 0 violations"), cli.out());
            }
            // the wall clock (skewed up to 2 s) orders some messages backwards: exactly the true edges whose pt goes down
            Verify.Result wall = Verify.check(events, ClockKind.WALL);
            long expected = hb.edges().stream().filter(e -> ClockKind.WALL.compare(e.from(), e.to()) > 0).count();
            assertEquals(expected, wall.violationCount());
            for (Verify.Violation v : wall.violations()) assertTrue(trulyBefore(sim, v.from(), v.to()), v.describe());
            Run cliWall = cli(args(sim.files, "verify", "--clock", "wall"));
            assertEquals(expected > 0 ? 1 : 0, cliWall.code(), cliWall.out());
        }
    }

    static boolean trulyBefore(Simulator sim, Event a, Event b) {
        VectorClock va = sim.truth.get(Simulator.key(a)).vc(), vb = sim.truth.get(Simulator.key(b)).vc();
        return va.compare(vb) == Causality.BEFORE;
    }

    @Test
    void verifyCatchesEveryInjectedViolation() throws IOException {
        Random rnd = new Random(42);
        for (long seed = 10; seed < 14; seed++) {
            Path d = Files.createDirectories(dir.resolve("v" + seed));
            Simulator sim = Simulator.run(Simulator.Config.small(seed), d);
            List<Event> events = EventLogs.readAll(sim.files);
            HappenedBefore hb = HappenedBefore.of(events);
            // pick edges whose target has no other injected change, and pull the target's HLC below the source's
            Map<String, Event> changed = new HashMap<>();
            List<Edge> injected = new ArrayList<>();
            List<Edge> all = new ArrayList<>(hb.edges());
            for (int i = 0; i < 8; i++) {
                Edge e = all.get(rnd.nextInt(all.size()));
                if (changed.containsKey(Simulator.key(e.to())) || changed.containsKey(Simulator.key(e.from()))) continue;
                Event moved = e.to().withHlc(e.from().hlc() - 1 - rnd.nextInt(1000));
                changed.put(Simulator.key(e.to()), moved);
                injected.add(e);
            }
            List<Event> modified = events.stream().map(e -> changed.getOrDefault(Simulator.key(e), e)).toList();
            Verify.Result r = Verify.check(modified, ClockKind.HLC);
            Set<String> reported = r.violations().stream().map(v -> v.from().where() + ">" + v.to().where()).collect(Collectors.toSet());
            for (Edge e : injected) assertTrue(reported.contains(e.from().where() + ">" + e.to().where()), "injected " + e + " reported: " + reported);
            for (Verify.Violation v : r.violations()) {
                assertTrue(trulyBefore(sim, v.from(), v.to()), "every reported violation is a true happened-before pair: " + v.describe());
                assertTrue(Long.compareUnsigned(v.from().hlc(), v.to().hlc()) >= 0, v.describe());
            }
            // and through the files and the CLI: rewrite each file with the changed lines
            Map<String, List<Event>> byFile = modified.stream().collect(Collectors.groupingBy(Event::file, TreeMap::new, Collectors.toList()));
            for (var en : byFile.entrySet()) {
                List<Event> lines = new ArrayList<>(en.getValue());
                lines.sort(Comparator.comparingLong(Event::line));
                Files.write(Path.of(en.getKey()), lines.stream().map(Event::toJsonLine).toList());
            }
            Run cli = cli(args(sim.files, "verify"));
            assertEquals(1, cli.code(), cli.out());
            for (Edge e : injected) {
                assertTrue(cli.out().contains(e.from().where() + " [") && cli.out().contains(e.to().where() + " ["), "CLI names both events of " + e);
            }
            assertTrue(cli.out().contains("NOT consistent"), cli.out());
        }
    }

    @Test
    void snapshotCutsAreConsistent() throws IOException {
        Simulator sim = Simulator.run(Simulator.Config.small(7), dir);
        List<Event> events = EventLogs.readAll(sim.files);
        Random rnd = new Random(7);
        for (int i = 0; i < 30; i++) {
            long at = events.get(rnd.nextInt(events.size())).hlc() + (rnd.nextBoolean() ? 0 : 1);
            Snapshot s = Snapshot.of(at, events);
            assertTrue(s.consistent(), "cut at " + HlcTimestamp.toHex(at));
            Set<String> inCut = events.stream().filter(e -> Long.compareUnsigned(e.hlc(), at) <= 0).map(Simulator::key).collect(Collectors.toSet());
            assertEquals(inCut.size(), s.eventsInCut());
            for (String k : inCut) {
                String send = sim.messageEdges.get(k);
                if (send != null) assertTrue(inCut.contains(send), "ground truth: the send of " + k + " is in the cut");
            }
            for (Event last : s.frontier().values()) {
                for (Event e : events) {
                    if (e.lane().equals(last.lane()) && e.seq() > last.seq()) assertTrue(Long.compareUnsigned(e.hlc(), at) > 0);
                }
            }
        }
        // the CLI takes both forms of HLC time
        long at = events.get(events.size() / 2).hlc();
        Run hex = cli(args(sim.files, "snapshot", "--at", HlcTimestamp.toHex(at)));
        Run text = cli(args(sim.files, "snapshot", "--at", HlcTimestamp.toSortableString(at)));
        assertEquals(0, hex.code(), hex.out() + hex.err());
        assertEquals(hex.out(), text.out());
        assertTrue(hex.out().contains("consistent: no event in the cut"), hex.out());

        // a cut through a violation is reported as inconsistent
        Edge msg = HappenedBefore.of(events).messageEdges().get(3);
        List<Event> bad = events.stream().map(e -> e == msg.to() ? e.withHlc(msg.from().hlc() - 1) : e).toList();
        Snapshot s = Snapshot.of(msg.from().hlc() - 1, bad);
        assertFalse(s.consistent());
        assertEquals(msg.from(), s.crossingEdges().get(0).from());
    }

    @Test
    void shivizClocksFollowTheGraphEvenWhereHlcOrderIsViolated() throws IOException {
        // refused remote timestamps make receives go backwards in HLC order; the clocks must still be the true ones
        Simulator sim = Simulator.run(new Simulator.Config(3, 2, 400, 5, 0.3, 5_000_000_000L, java.time.Duration.ofSeconds(1)), dir);
        List<Event> events = EventLogs.readAll(sim.files);
        assertTrue(Verify.check(events, ClockKind.HLC).violationCount() > 0, "the scenario has HLC violations");
        Run run = cli(args(sim.files, "export", "--format", "shiviz"));
        assertEquals(0, run.code(), run.err());
        assertFalse(run.err().contains("left out of the vector clocks"), run.err());
        assertShivizMatchesTruth(sim, events, run.out());
    }

    static void assertShivizMatchesTruth(Simulator sim, List<Event> events, String text) {
        String[] head = text.split("\n", 3);
        Matcher m = Pattern.compile(head[0]).matcher(head[2]);
        Map<String, Event> byWhere = events.stream().collect(Collectors.toMap(Event::where, e -> e));
        Pattern entry = Pattern.compile("\"([^\"]+)\":(\\d+)");
        Map<String, Long> ownCounter = new HashMap<>();
        int n = 0;
        while (m.find()) {
            Map<String, Long> clock = new TreeMap<>();
            Matcher em = entry.matcher(m.group("clock"));
            while (em.find()) clock.put(em.group(1), Long.parseLong(em.group(2)));
            assertEquals(ownCounter.merge(m.group("host"), 1L, Long::sum), clock.get(m.group("host")));
            Event e = byWhere.get(m.group("event").substring(m.group("event").lastIndexOf(" at ") + 4));
            assertEquals(sim.truth.get(Simulator.key(e)).vc().entries(), clock, "vector clock of " + e.where());
            n++;
        }
        assertEquals(events.size(), n);
    }

    @Test
    void shivizExportRoundTripsThroughItsRegex() throws IOException {
        Simulator sim = Simulator.run(Simulator.Config.small(3), dir);
        Run run = cli(args(sim.files, "export", "--format", "shiviz"));
        assertEquals(0, run.code(), run.err());
        String text = run.out();
        String[] head = text.split("\n", 3);
        assertEquals(Exports.SHIVIZ_REGEX, head[0], "first line: the parser regex");
        assertEquals("", head[1], "second line: the (empty) execution delimiter");
        Matcher m = Pattern.compile(head[0]).matcher(head[2]);
        Map<String, Long> ownCounter = new HashMap<>();
        List<Event> events = EventLogs.readAll(sim.files);
        Map<String, Event> byWhere = events.stream().collect(Collectors.toMap(Event::where, e -> e));
        int n = 0;
        Pattern entry = Pattern.compile("\"([^\"]+)\":(\\d+)");
        while (m.find()) {
            String host = m.group("host");
            Map<String, Long> clock = new TreeMap<>();
            Matcher em = entry.matcher(m.group("clock"));
            while (em.find()) clock.put(em.group(1), Long.parseLong(em.group(2)));
            long own = ownCounter.merge(host, 1L, Long::sum);
            assertEquals(own, clock.get(host), "ShiViz rule: a host's own entry counts its events from 1");
            String where = m.group("event").substring(m.group("event").lastIndexOf(" at ") + 4);
            Event e = byWhere.get(where);
            assertNotNull(e, where);
            assertEquals(Exports.shivizHost(e), host);
            // the computed clock is the simulation's true vector clock (lanes named the same way)
            assertEquals(sim.truth.get(Simulator.key(e)).vc().entries(), clock, "vector clock of " + where);
            n++;
        }
        assertEquals(events.size(), n, "every event parsed back");

        Run dot = cli(args(sim.files, "export", "--format", "dot"));
        assertEquals(0, dot.code());
        assertTrue(dot.out().startsWith("digraph hlctrace {") && dot.out().trim().endsWith("}"));
        assertEquals(HappenedBefore.of(events).edges().size(), dot.out().lines().filter(l -> l.contains(" -> ")).count());

        Path jsonl = dir.resolve("merged.jsonl");
        Run j = cli(args(sim.files, "export", "--format", "jsonl", "-o", jsonl.toString()));
        assertEquals(0, j.code(), j.err());
        Diagnostics d = new Diagnostics();
        List<Event> again = EventLogs.readAll(List.of(jsonl), d);
        assertTrue(d.isEmpty(), d.toString());
        assertEquals(events.size(), again.size());
        for (int i = 0; i < events.size(); i++) {
            assertEquals(events.get(i).hlc(), again.get(i).hlc());
            assertEquals(events.get(i).vc(), again.get(i).vc());
            assertEquals(events.get(i).msg(), again.get(i).msg());
            assertEquals(events.get(i).offStart(), again.get(i).offStart());
        }
        Path merged = dir.resolve("merged-verbatim.jsonl");
        assertEquals(0, cli(args(sim.files, "merge", "-o", merged.toString())).code());
        Set<String> original = new HashSet<>();
        for (Path f : sim.files) original.addAll(Files.readAllLines(f));
        List<String> mergedLines = Files.readAllLines(merged);
        assertEquals(original, new HashSet<>(mergedLines), "merge outputs the input lines verbatim");
        assertEquals(events.size(), mergedLines.size());
    }

    @Test
    void refusedTimestampsAreCountedPerExecutor() throws IOException {
        // one executor 5 s ahead, a 1 s guard: its messages are refused by the others
        Simulator sim = Simulator.run(new Simulator.Config(3, 1, 300, 5, 0.2, 5_000_000_000L, java.time.Duration.ofSeconds(1)), dir);
        List<Event> events = EventLogs.readAll(sim.files);
        Verify.Result r = Verify.check(events, ClockKind.HLC);
        assertEquals(sim.refused, r.stats().refused());
        assertEquals(sim.refused, events.stream().filter(Event::refused).count());
        StringWriter sw = new StringWriter();
        assertTrue(sim.refused > 0, "the scenario produces refusals");
        Run run = cli(args(sim.files, "verify"));
        assertTrue(run.out().contains("largest l - pt"), run.out());
        // a refused receive is stamped by a local tick, so its edge can go backwards in HLC order; verify says so
        long backwards = HappenedBefore.of(events).messageEdges().stream().filter(e -> !ClockKind.HLC.forward(e.from(), e.to())).count();
        assertEquals(backwards == 0 ? 0 : 1, run.code(), run.out());
        assertEquals(backwards, r.violationCount());
        sw.close();
    }

    @Test
    void mergeOfHundredsOfFilesIsOneTotalOrder() throws IOException {
        Simulator sim = Simulator.run(new Simulator.Config(30, 10, 6000, 99, 0.3, 1_000_000_000L, java.time.Duration.ZERO), dir);
        assertEquals(300, sim.files.size());
        Path merged = dir.resolve("merged.jsonl");
        Run run = cli(args(sim.files, "merge", "-o", merged.toString()));
        assertEquals(0, run.code(), run.err());
        List<Event> events = EventLogs.readAll(List.of(merged));
        assertEquals(sim.events, events.size());
        for (int i = 1; i < events.size(); i++) {
            assertTrue(ClockKind.HLC_ORDER.compare(events.get(i - 1), events.get(i)) < 0, "line " + (i + 1) + " follows line " + i + " in HLC, node, proc, seq order");
        }
        assertEquals(0, cli("verify", merged.toString()).code(), "the merged file is itself a log that verifies");
    }
}
