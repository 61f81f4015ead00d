package io.hlctrace.timeline;

import io.hlctrace.hlc.HlcTimestamp;

import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hlctrace timeline merge|verify|snapshot|export|report}. Exit codes: 0 done (verify:
 * consistent), 1 verify found violations (snapshot: the cut is inconsistent), 2 bad usage or
 * unreadable input.
 */
public final class Main {
    public static final int OK = 0, VIOLATIONS = 1, USAGE = 2;

    static final String USAGE_TEXT = """
            usage: hlctrace timeline <command> [options] LOG...

              merge [-o FILE] LOG...                 all events in one total order (HLC, then node, proc, seq), lines verbatim
              verify [--clock hlc|wall|lamport|vector] [--strict] LOG...
                                                     check every happened-before edge goes forward in that order;
                                                     exit 0 consistent, 1 violations (--strict: or input errors), 2 bad usage/input
              snapshot --at HLC LOG...               the cut of events with hlc <= HLC (16 hex digits or
                                                     2026-11-23T01:29:26.123456Z/00004); exit 1 if it is inconsistent
              export --format shiviz|dot|jsonl [-o FILE] LOG...
                                                     ShiViz log (vector clocks from the graph), Graphviz DOT, merged JSON Lines
              report [-o report.html] [--max-events N] LOG...
                                                     one self-contained HTML page: space-time diagram and summary

            Problems in the input are printed to stderr as file:line: what; the rest of the input is used.
            docs/timeline.md has the details.
            """;

    private Main() {}

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        int code = run(args, out, System.err);
        out.flush();
        System.exit(code);
    }

    /** Runs one command; output to {@code out}, problems to {@code err}. Returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            (args.length == 0 ? err : out).print(USAGE_TEXT);
            return args.length == 0 ? USAGE : OK;
        }
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("hlctrace timeline: " + e.getMessage());
            err.print(USAGE_TEXT);
            return USAGE;
        }
        for (Path f : o.logs) {
            String problem = unreadable(f);
            if (problem != null) {
                err.println("hlctrace timeline: cannot read " + f + ": " + problem);
                return USAGE;
            }
        }
        Diagnostics diagnostics = new Diagnostics();
        try (MergedEvents merged = EventLogs.merge(o.logs, diagnostics)) {
            int code = switch (o.command) {
                case "merge" -> merge(merged, o, out);
                case "verify" -> verify(merged, o, out, err, diagnostics);
                case "snapshot" -> snapshot(merged, o, out, diagnostics);
                case "export" -> export(merged, o, out, diagnostics);
                case "report" -> report(merged, o, out, diagnostics);
                default -> throw new IllegalStateException(o.command);
            };
            printDiagnostics(err, diagnostics);
            return code;
        } catch (IOException e) {
            printDiagnostics(err, diagnostics);
            err.println("hlctrace timeline: reading or writing failed: " + e);
            return USAGE;
        }
    }

    private static String unreadable(Path f) {
        if (!Files.exists(f)) return "no such file";
        if (Files.isDirectory(f)) return "it is a directory (pass the log files, e.g. DIR/*.jsonl)";
        if (!Files.isReadable(f)) return "permission denied";
        try (var in = Files.newInputStream(f)) {
            return null;
        } catch (NoSuchFileException e) {
            return "no such file";
        } catch (AccessDeniedException e) {
            return "permission denied";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static void printDiagnostics(PrintStream err, Diagnostics d) {
        if (d.isEmpty()) return;
        err.print(d);
        err.println("hlctrace timeline: input problems: " + d.errorCount() + " errors (those lines were skipped), " + d.warningCount() + " warnings");
    }

    private static OutputStream target(Options o, PrintStream out) throws IOException {
        return o.output == null ? out : Files.newOutputStream(o.output);
    }

    private static int merge(MergedEvents merged, Options o, PrintStream out) throws IOException {
        OutputStream raw = target(o, out);
        try (OutputStream os = new BufferedOutputStream(raw, 1 << 16) {
            @Override
            public void close() throws IOException {
                if (raw == out) flush(); else super.close();
            }
        }) {
            while (merged.next() != null) merged.writeCurrentLine(os);
        }
        return OK;
    }

    private static int verify(MergedEvents merged, Options o, PrintStream out, PrintStream err, Diagnostics diagnostics) throws IOException {
        Verify.Verifier v = Verify.streaming(o.clock, diagnostics);
        for (Event e; (e = merged.next()) != null; ) v.accept(e);
        Verify.Result r = v.finish();
        if (r.events() > 0 && r.stats().carrying(o.clock) == 0) {
            err.println("hlctrace timeline: no event carries the " + o.clock.label() + " clock (field \""
                    + (o.clock == ClockKind.LAMPORT ? "lamport" : "vc") + "\"); these logs cannot be verified in that order");
            return USAGE;
        }
        r.print(out);
        if (!r.consistent()) return VIOLATIONS;
        if (o.strict && diagnostics.errorCount() > 0) {
            out.println("--strict: " + diagnostics.errorCount() + " input errors, so the logs are not verified");
            return VIOLATIONS;
        }
        return OK;
    }

    private static int snapshot(MergedEvents merged, Options o, PrintStream out, Diagnostics diagnostics) throws IOException {
        Snapshot s = Snapshot.of(o.at, merged, diagnostics);
        s.print(out);
        return s.consistent() ? OK : VIOLATIONS;
    }

    private static int export(MergedEvents merged, Options o, PrintStream out, Diagnostics diagnostics) throws IOException {
        OutputStream raw = target(o, out);
        Writer w = new BufferedWriter(new OutputStreamWriter(raw, StandardCharsets.UTF_8), 1 << 16);
        try {
            switch (o.format) {
                case "shiviz" -> Exports.shiviz(o.logs, merged, w, diagnostics);
                case "dot" -> Exports.dot(merged, w, diagnostics);
                case "jsonl" -> Exports.jsonl(merged, w);
                default -> throw new IllegalStateException(o.format);
            }
        } finally {
            w.flush();
            if (raw != out) raw.close();
        }
        return OK;
    }

    private static int report(MergedEvents merged, Options o, PrintStream out, Diagnostics diagnostics) throws IOException {
        Path target = o.output == null ? Path.of("report.html") : o.output;
        try (Writer w = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
            Report.write(merged, w, o.maxEvents, o.logs.stream().map(Path::toString).toList(), diagnostics);
        }
        out.println("wrote " + target.toAbsolutePath());
        return OK;
    }

    /** The parsed command line. */
    static final class Options {
        String command;
        final List<Path> logs = new ArrayList<>();
        Path output;
        ClockKind clock = ClockKind.HLC;
        boolean strict;
        long at;
        boolean hasAt;
        String format;
        int maxEvents = Report.DEFAULT_MAX_EVENTS;

        static Options parse(String[] args) {
            Options o = new Options();
            o.command = args[0];
            if (!List.of("merge", "verify", "snapshot", "export", "report").contains(o.command)) {
                throw new IllegalArgumentException("unknown command \"" + o.command + "\"");
            }
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "-o", "--output" -> o.output = Path.of(value(args, ++i, a));
                    case "--clock" -> o.clock = ClockKind.parse(value(args, ++i, a));
                    case "--strict" -> o.strict = true;
                    case "--at" -> {
                        String t = value(args, ++i, a);
                        try {
                            o.at = HlcTimestamp.parse(t);
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException("--at: " + e.getMessage());
                        }
                        o.hasAt = true;
                    }
                    case "--format" -> {
                        o.format = value(args, ++i, a);
                        if (!List.of("shiviz", "dot", "jsonl").contains(o.format)) {
                            throw new IllegalArgumentException("--format must be shiviz, dot or jsonl, not \"" + o.format + "\"");
                        }
                    }
                    case "--max-events" -> {
                        try {
                            o.maxEvents = Integer.parseInt(value(args, ++i, a));
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--max-events needs a number");
                        }
                        if (o.maxEvents < 1) throw new IllegalArgumentException("--max-events must be at least 1");
                    }
                    default -> {
                        if (a.startsWith("-") && a.length() > 1) throw new IllegalArgumentException("unknown option " + a + " for " + o.command);
                        o.logs.add(Path.of(a));
                    }
                }
            }
            if (o.logs.isEmpty()) throw new IllegalArgumentException(o.command + ": no log files given");
            if (o.command.equals("snapshot") && !o.hasAt) throw new IllegalArgumentException("snapshot needs --at HLC");
            if (o.command.equals("export") && o.format == null) throw new IllegalArgumentException("export needs --format shiviz|dot|jsonl");
            if (!o.command.equals("verify") && (o.clock != ClockKind.HLC || o.strict)) {
                throw new IllegalArgumentException("--clock and --strict belong to verify");
            }
            return o;
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
            return args[i];
        }
    }
}
