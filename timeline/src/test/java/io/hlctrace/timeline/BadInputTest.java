package io.hlctrace.timeline;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static io.hlctrace.timeline.SimulatedLogsTest.cli;
import static org.junit.jupiter.api.Assertions.*;

/** Bad and hostile input: every problem reported with file and line, the rest processed, nothing crashes. */
class BadInputTest {
    @TempDir Path dir;

    static String line(String hlc, String node, String proc, long seq, String kind, String extra) {
        return "{\"v\":1,\"hlc\":\"" + hlc + "\",\"node\":\"" + node + "\",\"proc\":\"" + proc + "\",\"seq\":" + seq + ",\"kind\":\"" + kind
                + "\",\"pt\":1763861366123456789,\"src\":\"agent\"" + extra + "}";
    }

    @Test
    void eachProblemIsReportedWithFileAndLineAndTheRestIsRead() throws IOException {
        Path a = dir.resolve("a.jsonl");
        Files.writeString(a, String.join("\n",
                line("6932a5e61f3a0001", "A", "p:1", 1, "local", ""),                                // 1 ok
                "{\"v\":1,\"hlc\":\"6932a5e61f3a0002\",\"node\":\"A\"",                                // 2 malformed (cut)
                line("6932a5e61f3a0003", "A", "p:1", 2, "send", ",\"msg\":\"00000000000000aa\",\"future\":{\"x\":[1,2,{\"y\":null}]}"), // 3 unknown field
                line("6932a5e61f3a0004", "A", "p:1", 3, "local", "").replace("\"v\":1", "\"v\":2"),     // 4 newer version
                line("6932a5e61f3a0004", "A", "p:1", 3, "local", ""),                                // 5 ok
                line("6932a5e61f3a0004", "A", "p:1", 3, "local", ""),                                // 6 duplicate of 5
                line("zz32a5e61f3a0005", "A", "p:1", 4, "local", ""),                                // 7 bad hlc
                line("6932a5e61f3a0006", "A", "p:1", 4, "local", "").replace(",\"seq\":4", ""),      // 8 missing seq
                "",                                                                                  // 9 blank: ignored
                line("6932a5e61f3a0007", "A", "p:1", 5, "local", ",\"info\":\"caf\\u00e9 \\\"q\\\"\""), // 10 ok, escapes
                line("6932a5e61f3a0008", "A", "p:1", 6, "local", "") + " trailing",                  // 11 trailing text
                line("6932a5e61f3a0009", "A", "p:1", 7, "recv", ",\"msg\":\"00000000000000bb\"").substring(0, 60)) // 12 truncated, no newline
        );
        Path b = dir.resolve("b.jsonl");
        Files.writeString(b, line("6932a5e61f3a0005", "B", "q:2", 1, "recv", ",\"msg\":\"00000000000000aa\"") + "\n");

        Diagnostics d = new Diagnostics();
        List<Event> events = EventLogs.readAll(List.of(a, b), d);
        String text = d.toString();
        assertEquals(6, events.size(), text + events); // lines 1, 3, 5, 6 (a duplicate, found by the graph), 10 of a and the line of b
        assertTrue(text.contains(a + ":2: malformed line"), text);
        assertTrue(text.contains(a + ":3: warning: unknown field \"future\""), text);
        assertTrue(text.contains(a + ":4: schema version 2 is newer"), text);
        assertTrue(text.contains(a + ":7: malformed line, \"hlc\" has a character that is not a hex digit"), text);
        assertTrue(text.contains(a + ":8: missing required field \"seq\""), text);
        assertTrue(text.contains(a + ":11: malformed line, unexpected text after the closing '}'"), text);
        assertTrue(text.contains(a + ":12: truncated last line"), text);
        assertEquals("caf\u00e9 \"q\"", events.stream().filter(e -> e.seq() == 5).findFirst().orElseThrow().info());

        // duplicates are found by the graph (HappenedBefore / verify), with both places
        Diagnostics hd = new Diagnostics();
        HappenedBefore hb = HappenedBefore.of(EventLogs.readAll(List.of(a, a)), hd);
        assertEquals(6, hb.duplicates(), "a holds 5 events of 4 distinct seqs; read twice, 6 are duplicates");
        assertTrue(hd.toString().contains("duplicate event: A/p:1 seq 1 was already read at " + a + ":1"), hd.toString());
        // a file appended to itself: the repeats are far apart, but the seqs so far were consecutive
        Path twice = dir.resolve("twice.jsonl");
        String good = line("6932a5e61f3a0001", "A", "p:1", 1, "local", "") + "\n" + line("6932a5e61f3a0002", "A", "p:1", 2, "local", "") + "\n"
                + line("6932a5e61f3a0003", "A", "p:1", 3, "local", "") + "\n";
        Files.writeString(twice, good + good);
        Diagnostics td = new Diagnostics();
        HappenedBefore th = HappenedBefore.of(EventLogs.readAll(List.of(twice)), td);
        assertEquals(3, th.duplicates(), td.toString());
        assertTrue(td.toString().contains(twice + ":4: duplicate event: A/p:1 seq 1 was already read"), td.toString());
        SimulatedLogsTest.Run tv = cli("verify", twice.toString());
        assertTrue(tv.err().contains(twice + ":5: duplicate event"), tv.err());
        assertTrue(tv.out().contains("hlc order: 3 events"), tv.out());

        Diagnostics rd = new Diagnostics();
                Verify.Result r = Verify.check(EventLogs.readAll(List.of(a, b)), ClockKind.HLC, rd);
        assertEquals(1, r.duplicates(), rd.toString());
        assertTrue(rd.toString().contains(a + ":6: ") || rd.toString().contains(a + ":5: "), rd.toString());
        assertTrue(r.consistent(), "the message aa goes forward: " + r.violations());
        assertEquals(1, HappenedBefore.of(EventLogs.readAll(List.of(a, b))).messageEdges().size(), "send aa pairs with its receive");

        SimulatedLogsTest.Run run = cli("verify", a.toString(), b.toString());
        assertEquals(0, run.code(), run.out() + run.err());
        assertTrue(run.err().contains(a + ":2: malformed line"), run.err());
        assertTrue(run.err().contains("input problems: "), run.err());
        assertEquals(1, cli("verify", "--strict", a.toString(), b.toString()).code(), "--strict fails on input errors");
    }

    @Test
    void hostileLinesDoNotCrashAnything() throws IOException {
        Path h = dir.resolve("hostile.jsonl");
        Random rnd = new Random(1);
        try (OutputStream out = Files.newOutputStream(h)) {
            String ok = line("6932a5e61f3a0001", "A", "p:1", 1, "local", "");
            out.write((ok + "\n").getBytes(StandardCharsets.UTF_8));
            out.write(("{\"v\":1,\"deep\":" + "[".repeat(100_000) + "\n").getBytes(StandardCharsets.UTF_8));  // deep nesting
            out.write(("{\"v\":1,\"x\":\"" + "a".repeat(3 << 20) + "\"}\n").getBytes(StandardCharsets.UTF_8));  // 3 MiB line
            out.write(new byte[]{0, 1, 2, (byte) 0xff, (byte) 0xfe, '{', '}', '\n'});                            // binary
            out.write("{\"v\":1,\"hlc\":\"6932a5e61f3a0002\",\"seq\":99999999999999999999999}\n".getBytes(StandardCharsets.UTF_8)); // overflow
            out.write("{\"v\":1,\"node\":\"\\ud800\",\"off\":[5,2]}\n".getBytes(StandardCharsets.UTF_8));          // lone surrogate, bad range
            out.write(line("6932a5e61f3a0003", "A\u00e9\u4e2d", "p:1", 1, "local", ",\"vc\":{\"x\":-1}").getBytes(StandardCharsets.UTF_8));
            out.write('\n');
            for (int i = 0; i < 2000; i++) {   // random bytes and random mutations of a good line
                byte[] junk = ok.getBytes(StandardCharsets.UTF_8);
                for (int k = 0; k < 3; k++) junk[rnd.nextInt(junk.length)] = (byte) rnd.nextInt(256);
                for (int k = 0; k < junk.length; k++) if (junk[k] == '\n') junk[k] = ' ';
                out.write(junk);
                out.write('\n');
            }
            out.write((line("6932a5e61f3a0004", "A", "p:1", 2, "local", "") + "\n").getBytes(StandardCharsets.UTF_8));
        }
        for (String cmd : List.of("merge", "verify", "report", "export-shiviz", "export-dot", "export-jsonl", "snapshot")) {
            SimulatedLogsTest.Run run = switch (cmd) {
                case "report" -> cli("report", "-o", dir.resolve("r.html").toString(), h.toString());
                case "snapshot" -> cli("snapshot", "--at", "6932a5e61f3a0003", h.toString());
                case "export-shiviz", "export-dot", "export-jsonl" -> cli("export", "--format", cmd.substring(7), h.toString());
                default -> cli(cmd, h.toString());
            };
            assertTrue(run.code() == 0 || run.code() == 1, cmd + " exit " + run.code() + ": " + run.err());
            assertTrue(run.err().contains(h + ":2: malformed line, values nested deeper than"), cmd + ": " + run.err().lines().limit(5).toList());
            assertTrue(run.err().contains(h + ":3: line longer than"), run.err().lines().limit(5).toList().toString());
            assertTrue(run.err().contains(h + ":4: malformed line"), run.err().lines().limit(6).toList().toString());
            assertTrue(run.err().contains(h + ":5: malformed line, \"seq\" does not fit a 64-bit integer"), run.err().lines().limit(8).toList().toString());
        }
        Diagnostics d = new Diagnostics();
        List<Event> events = EventLogs.readAll(List.of(h), d);
        assertTrue(events.stream().anyMatch(e -> e.seq() == 2 && e.line() == 2008), "the good line after the junk is read: " + events);
        assertTrue(d.errorCount() > 1000, "the junk is reported, not silently dropped");
        assertEquals(Diagnostics.DEFAULT_KEEP, d.list().size(), "diagnostics kept in memory are capped");
    }

    @Test
    void usageErrorsAndUnreadableInputExitWithTwo() throws IOException {
        assertEquals(2, cli().code());
        assertEquals(2, cli("frobnicate", "x").code());
        assertEquals(2, cli("verify").code());
        assertEquals(2, cli("verify", "--clock", "sundial", "x").code());
        assertEquals(2, cli("snapshot", "some.log").code());
        assertEquals(2, cli("snapshot", "--at", "yesterday", "some.log").code());
        assertEquals(2, cli("export", "--format", "pdf", "x").code());
        SimulatedLogsTest.Run missing = cli("verify", dir.resolve("nope.jsonl").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("cannot read " + dir.resolve("nope.jsonl") + ": no such file"), missing.err());
        assertEquals(2, cli("verify", dir.toString()).code(), "a directory is not a log");
        Path noLamport = dir.resolve("plain.jsonl");
        Files.writeString(noLamport, line("6932a5e61f3a0001", "A", "p:1", 1, "local", "") + "\n");
        SimulatedLogsTest.Run r = cli("verify", "--clock", "lamport", noLamport.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no event carries the lamport clock"), r.err());
        assertEquals(0, cli("help").code());
    }
}
