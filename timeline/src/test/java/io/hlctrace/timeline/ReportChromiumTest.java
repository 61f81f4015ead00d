package io.hlctrace.timeline;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.hlctrace.timeline.SimulatedLogsTest.args;
import static io.hlctrace.timeline.SimulatedLogsTest.cli;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The HTML report, loaded in headless Chromium (Debian's chromium package). */
class ReportChromiumTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir Path dir;

    /** A small system: three executors, one 2 s ahead of another, a 1 s max-offset guard (so some receives are refused). */
    static Simulator scenario(Path dir) throws IOException {
        return Simulator.run(new Simulator.Config(3, 2, 46, 11, 0.3, 2_500_000_000L, Duration.ofSeconds(1)), dir);
    }

    record Chromium(int code, String stdout, String stderr) {}

    static Chromium chromium(Path profile, Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(profile.getParent(), "chromium", ".out"), err = Files.createTempFile(profile.getParent(), "chromium", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) fail("chromium did not finish within " + timeout + ": " + String.join(" ", cmd));
            return new Chromium(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    static int attr(String dom, String name) {
        Matcher m = Pattern.compile(name + "=\"(\\d+)\"").matcher(dom);
        assertTrue(m.find(), name + " is set on <body>: the script ran");
        return Integer.parseInt(m.group(1));
    }

    @Test
    void reportRendersLanesAndArrowsWithoutScriptErrors() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "chromium is not installed at " + CHROMIUM + " (Debian package 'chromium'; scripts/setup.sh installs it)");
        // relative paths under target/, so the report's header names short files (it is the picture in docs/)
        Path demo = Path.of("target", "report-demo");
        if (Files.exists(demo)) try (var old = Files.walk(demo)) { old.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete()); }
        Path logs = Files.createDirectories(demo.resolve("logs"));
        Simulator sim = scenario(logs);
        Path html = demo.resolve("report.html").toAbsolutePath();
        SimulatedLogsTest.Run run = cli(args(sim.files, "report", "-o", html.toString()));
        assertEquals(0, run.code(), run.err());
        String page = Files.readString(html);
        assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(page).find(), "self-contained: nothing loaded from the network");

        List<Event> events = EventLogs.readAll(sim.files);
        HappenedBefore hb = HappenedBefore.of(events);
        long lanes = events.stream().map(Event::lane).distinct().count();
        long messages = hb.messageEdges().size();
        long wallBackwards = hb.messageEdges().stream().filter(e -> !ClockKind.WALL.forward(e.from(), e.to())).count();
        assertTrue(messages > 5 && wallBackwards > 0, "the scenario has messages, some backwards in physical time");

        for (String mode : List.of("hlc", "pt")) {
            Chromium c = chromium(dir.resolve("profile-" + mode), Duration.ofSeconds(60), "--dump-dom", html.toUri() + "?mode=" + mode);
            assertEquals(0, c.code(), c.stderr());
            String dom = c.stdout();
            assertTrue(dom.contains("data-rendered=\"ok\""), "the script finished: " + dom.substring(0, Math.min(400, dom.length())));
            assertFalse(dom.contains("data-errors=\"yes\""), "no script errors: " + dom);
            assertTrue(dom.contains("<div id=\"errors\"></div>"), "the error box stays empty");
            assertFalse(c.stderr().contains("Uncaught"), "no uncaught errors on the console: " + c.stderr());
            assertEquals(mode, Pattern.compile("data-mode=\"(\\w+)\"").matcher(dom).results().findFirst().orElseThrow().group(1));
            assertEquals(lanes, attr(dom, "data-lanes"));
            assertEquals(messages, attr(dom, "data-arrows"));
            assertEquals(lanes, count(dom, "class=\"lane lane-line\""), "one line per lane in the SVG");
            assertEquals(messages, count(dom, "class=\"msg arrow"), "one arrow per message in the SVG");
            assertEquals(events.size(), count(dom, "class=\"ev "), "one dot per event");
            long hlcBackwards = hb.messageEdges().stream().filter(e -> !ClockKind.HLC.forward(e.from(), e.to())).count();
            assertEquals(mode.equals("pt") ? wallBackwards : hlcBackwards, attr(dom, "data-backwards"));
            long refused = events.stream().filter(Event::refused).count();
            assertEquals(refused, count(dom, "class=\"ring-refused\""), "refused timestamps are marked");
        }

        for (String mode : List.of("hlc", "pt")) {
            Path png = demo.resolve("report-" + mode + ".png").toAbsolutePath();
            Chromium shot = chromium(dir.resolve("profile-shot-" + mode), Duration.ofSeconds(60), "--hide-scrollbars", "--window-size=1300,1040",
                    "--screenshot=" + png, html.toUri() + "?mode=" + mode);
            assertEquals(0, shot.code(), shot.stderr());
            assertTrue(Files.size(png) > 10_000, "a screenshot was written to " + png);
        }
    }

    static long count(String s, String needle) {
        long n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
        return n;
    }

}
