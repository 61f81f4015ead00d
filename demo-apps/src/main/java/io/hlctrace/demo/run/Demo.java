package io.hlctrace.demo.run;

import io.hlctrace.demo.ChildJvm;
import io.hlctrace.demo.compare.ClockComparison;
import io.hlctrace.demo.compare.RecordedRun;
import io.hlctrace.demo.compare.SimulatedComparisons;
import io.hlctrace.timeline.ClockKind;
import io.hlctrace.timeline.Event;
import io.hlctrace.timeline.Verify;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * {@code hlctrace demo [--out DIR] [--requests N]}: three executors with wrong clocks (A correct,
 * B two hours behind, C 350 ms ahead drifting 50 ppm), JVM services with the agent, a workload whose
 * causal chains cross all three, then merge, verify, report, ShiViz export and the five-clock
 * comparison in the output directory.
 *
 * <p>As root, each executor is a network namespace with its own cgroup ({@link Namespaces});
 * otherwise the executors are simulated on loopback, and the demo says so. With {@code --docker} the executors are
 * Docker networks and the services containers ({@link DockerDemo}), with the same {@link Workload}.
 */
public final class Demo {
    /** An executor of the demo: its name, its clock error, the services it runs. */
    public record Executor(String name, long offsetNanos, double driftPpm) {}

    public static final List<Executor> EXECUTORS = List.of(
            new Executor("A", 0, 0),
            new Executor("B", -Duration.ofHours(2).toNanos(), 0),
            new Executor("C", Duration.ofMillis(350).toNanos(), 50));

    /** What a run produced, for the summary and for tests. */
    public record Outcome(String variant, Path out, int processes, long events, long messages, Map<ClockComparison.Clock, Long> violations,
                          ClockComparison.Comparison comparison, int timelineVerifyExit, Path report, Path merged, Path shiviz, Path comparisonFile,
                          List<Path> logs, Path clocksLog, Map<ClockKind, Long> timelineViolations) {}

    private Demo() {}

    /** Set when the JVM is shutting down (Ctrl-C, SIGTERM): then a failed run is not retried on loopback. */
    private static volatile boolean stopping;

    public static void main(List<String> args) throws Exception {
        Path out = Path.of("hlctrace-demo-out");
        int requests = 120;
        boolean docker = false;
        String usage = "usage: hlctrace demo [--docker] [--out DIR] [--requests N]\n       hlctrace demo scale-model [options]\n       hlctrace demo compare [--out DIR]";
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println(usage);
                return;
            }
            if (a.equals("--docker")) {
                docker = true;
                continue;
            }
            if (!a.equals("--out") && !a.equals("--requests")) {
                System.err.println("hlctrace demo: unknown option " + a + "\n" + usage);
                System.exit(2);
            }
            if (i + 1 >= args.size()) {
                System.err.println("hlctrace demo: " + a + " needs a value\n" + usage);
                System.exit(2);
            }
            String v = args.get(++i);
            if (a.equals("--out")) out = Path.of(v);
            else {
                try {
                    requests = Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    requests = -1;
                }
                if (requests < 2) {
                    System.err.println("hlctrace demo: --requests wants a whole number of at least 2, got \"" + v + "\"");
                    System.exit(2);
                }
            }
        }
        if (docker) {
            DockerDemo.main(out, requests);
            return;
        }
        long t0 = System.nanoTime();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopping = true, "hlctrace-demo-stopping"));
        Path agent = findAgentJar();
        String why = Namespaces.unavailableReason();
        Outcome o = null;
        if (why == null) {
            Path probeJar = findProbeJar();
            String noProbe = probeUnavailableReason(probeJar);
            System.out.println("hlctrace demo: executors A, B, C as network namespaces + cgroup v2 directories (prefix htd), JVM services with the agent;");
            if (noProbe == null) {
                System.out.println("  a kernel probe per executor (its clock shared with the executor's JVMs) and python3 services behind it;");
                System.out.println("  clock errors: A correct, B 2 h behind, C +350 ms drifting 50 ppm (the executor clock's physical-clock source).");
            } else {
                System.out.println("  clock errors: A correct, B 2 h behind, C +350 ms drifting 50 ppm (the agent's physical-clock source).");
                System.out.println("  Without the kernel probe and python3 services, because " + noProbe + ".");
            }
            try {
                o = run(out, requests, agent, true, noProbe == null ? probeJar : null);
            } catch (IOException e) {
                if (stopping) {
                    System.out.println("hlctrace demo: interrupted; namespaces, cgroups, pins and processes were removed.");
                    return;
                }
                System.out.println("hlctrace demo: the namespace variant failed (" + e.getMessage() + "); running the JVM-only variant on loopback instead.");
            }
        } else {
            System.out.println("hlctrace demo: JVM-only variant on loopback, because " + why + ".");
        }
        if (o == null) {
            System.out.println("  The executors A, B, C are simulated: each has its own executor clock file and a simulated clock error");
            System.out.println("  (A correct, B 2 h behind, C +350 ms drifting 50 ppm). No namespaces, cgroups, kernel probe or python3 services.");
            o = run(out, requests, agent, false, null);
        }
        System.out.println();
        System.out.print(summary(o));
        System.out.printf(Locale.ROOT, "finished in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** The agent jar: HLCTRACE_AGENT_JAR, or javaagent/target/hlctrace-agent.jar of the checkout this code runs from. */
    public static Path findAgentJar() throws IOException {
        Path jar = findJar("HLCTRACE_AGENT_JAR", "javaagent/target/hlctrace-agent.jar");
        if (jar == null) throw new IOException("the agent jar javaagent/target/hlctrace-agent.jar was not found above " + codeLocation()
                + ": build it (hlctrace build, or cd javaagent && mvn -q package -DskipTests) or set HLCTRACE_AGENT_JAR");
        return jar;
    }

    /** The kernel probe's jar (HLCTRACE_PROBE_JAR or kernel-probe/target/hlctrace-probe.jar), or null. */
    public static Path findProbeJar() throws IOException {
        return findJar("HLCTRACE_PROBE_JAR", "kernel-probe/target/hlctrace-probe.jar");
    }

    private static Path codeLocation() throws IOException {
        try {
            return Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException e) {
            throw new IOException("cannot tell where the demo runs from: " + e);
        }
    }

    private static Path findJar(String env, String relative) throws IOException {
        String fromEnv = System.getenv(env);
        if (fromEnv != null && !fromEnv.isBlank()) return Path.of(fromEnv);
        for (Path p = codeLocation(); p != null; p = p.getParent()) {
            Path jar = p.resolve(relative);
            if (Files.isRegularFile(jar)) return jar;
        }
        return null;
    }

    /** Why the kernel probe cannot run here, or null when it can (root is checked by the namespace variant). */
    public static String probeUnavailableReason(Path probeJar) {
        if (probeJar == null) return "the kernel probe jar kernel-probe/target/hlctrace-probe.jar is not built";
        if (!Files.isDirectory(Path.of("/sys/fs/bpf")) || !Files.exists(Path.of("/sys/kernel/btf/vmlinux"))) return "no bpffs at /sys/fs/bpf or no kernel BTF";
        return null;
    }

    /** The JVM-only variant: executors simulated on loopback. */
    public static Outcome runJvmOnly(Path out, int requests, Path agentJar) throws Exception {
        return run(out, requests, agentJar, false, null);
    }

    /**
     * Runs the services with the agent and the workload, on loopback or with each executor in its
     * own network namespace and cgroup, then the timeline and the comparison.
     */
    public static Outcome run(Path out, int requests, Path agentJar, boolean namespaces, Path probeJar) throws IOException, InterruptedException {
        Path logs = out.resolve("logs"), config = out.resolve("config"), clocks = out.resolve("clocks"), stderr = out.resolve("stderr");
        for (Path d : List.of(logs, config, clocks, stderr)) Files.createDirectories(d);
        deleteContents(logs);
        deleteContents(clocks);
        Map<String, Executor> byName = new HashMap<>();
        for (Executor e : EXECUTORS) byName.put(e.name(), e);

        List<ChildJvm> children = new CopyOnWriteArrayList<>();
        Namespaces[] lab = new Namespaces[1];
        Thread cleanup = new Thread(() -> {
            children.forEach(ChildJvm::close);
            if (lab[0] != null) lab[0].close();
        }, "hlctrace-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        String variant;
        try {
            if (namespaces) lab[0] = new Namespaces(EXECUTORS.stream().map(Executor::name).toList());
            Namespaces ns = lab[0];
            boolean probes = ns != null && probeJar != null;
            variant = ns == null ? "simulated on loopback"
                    : "network namespaces " + String.join(", ", EXECUTORS.stream().map(x -> ns.namespace(x.name()) + " (" + ns.address(x.name()) + ")").toList())
                    + " with cgroups under " + Namespaces.CGROUP2 + (probes ? "; a kernel probe per executor; python3 services" : "");
            Map<String, Path> probeClocks = new HashMap<>();
            if (probes) {
                for (Executor x : EXECUTORS) probeClocks.put(x.name(), startProbe(children, x, ns, probeJar, config, logs, stderr));
            }
            ServiceLauncher services = new ServiceLauncher(children, byName, agentJar, config, clocks, logs, stderr, ns, probeClocks);
            Map<String, List<String>> pythonCommands = new HashMap<>();
            Workload.Placement placement = new Workload.Placement() {
                @Override
                public Workload.Output startJvm(String service, String executor, List<String> args) throws IOException {
                    return services.start(service, executor, args);
                }

                @Override
                public Workload.Output startPython(String name, String executor, String script, List<String> args) throws IOException {
                    pythonCommands.put(name, concat(concat(ns.probedWrapper(executor), List.of("python3", "-u", "-c", script)), args));
                    return restartPython(name);
                }

                @Override
                public Workload.Output restartPython(String name) throws IOException {
                    ChildJvm py = ChildJvm.startProgram(name + "(C)", pythonCommands.get(name), stderr.resolve(name + ".stderr"));
                    children.add(py);
                    return py;
                }

                @Override
                public String address(String executor, String name, String port) {
                    return services.address(executor, port);
                }
            };
            try {
                System.out.println("workload: " + Workload.run(placement, requests, probes, 1));
            } catch (IOException e) {
                throw new IOException(e.getMessage() + "; see " + stderr, e);
            }
        } finally {
            // SIGTERM in reverse start order (services before the probes that stamp them): the agents and probe
            // daemons flush their logs in their shutdown hooks; then the namespaces, cgroups and pins go
            for (int i = children.size() - 1; i >= 0; i--) children.get(i).close();
            if (lab[0] != null) lab[0].close();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException ignored) {
                // already shutting down: the hook runs anyway
            }
        }
        return analyse(variant, out, logs, byName, children.size());
    }

    /** Starts the demo's services with the agent, in an executor's namespace when there are namespaces. */
    private record ServiceLauncher(List<ChildJvm> children, Map<String, Executor> executors, Path agentJar, Path configDir, Path clocks,
                            Path logs, Path stderr, Namespaces ns, Map<String, Path> probeClocks) {
        String address(String node, String port) {
            return (ns == null ? "127.0.0.1" : ns.address(node)) + ":" + port;
        }

        ChildJvm start(String service, String node, List<String> args) throws IOException {
            Executor e = executors.get(node);
            Path cfg = configDir.resolve(service + ".yml");
            StringBuilder y = new StringBuilder();
            y.append("node: ").append(node).append('\n');
            y.append("process: ").append(service).append('\n');
            Path probeClock = probeClocks.get(node);
            if (probeClock != null) {
                // one clock per executor, shared with the kernel probe; the probe's record carries the executor's skew
                y.append("clock: bpf:").append(probeClock).append('\n');
                y.append("ports: {").append(PYTHON_HTTP_PORT).append(": plain}\n");
            } else {
                y.append("clock: ").append(clocks.resolve(node).resolve("clock").toAbsolutePath()).append('\n');
                y.append("skew: {offset: ").append(e.offsetNanos()).append("ns, driftPpm: ").append(e.driftPpm()).append("}\n");
            }
            // B is two hours behind and there is no clock sync here: a guard below 2 h would refuse every message to B
            y.append("maxOffset: 3h\n");
            y.append("logDir: ").append(logs.toAbsolutePath()).append('\n');
            if (ns == null) {
                // one port registry for the three simulated executors: a client frames only to ports an instrumented server registered
                y.append("registryDir: ").append(clocks.resolve("ports").toAbsolutePath()).append('\n');
            } else {
                // every service on the demo's subnet runs the agent
                y.append("peers:\n  - {cidrs: [").append(ns.subnetCidr()).append("]}\n");
            }
            Files.writeString(cfg, y);
            List<String> jvmArgs = new ArrayList<>(List.of("-javaagent:" + agentJar.toAbsolutePath() + "=" + cfg.toAbsolutePath()));
            if (ns != null) jvmArgs.add("-Dhlctrace.demo.bind=any");
            ChildJvm c = ChildJvm.start(service + "(" + node + ")", ns == null ? List.of() : ns.wrapper(node), jvmArgs,
                    io.hlctrace.demo.apps.Services.class.getName(), args, stderr.resolve(service + ".stderr"));
            children.add(c);
            return c;
        }
    }

    /** The python3 HTTP service's port inside executor C's namespace; the agents talk plain to it. */
    static final int PYTHON_HTTP_PORT = Workload.PYTHON_HTTP_PORT;

    static List<String> concat(List<String> a, List<String> b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }

    /** Starts executor x's probe daemon on its probed cgroup and waits for its clock pin. */
    private static Path startProbe(List<ChildJvm> children, Executor x, Namespaces ns, Path probeJar, Path config, Path logs, Path stderr)
            throws IOException, InterruptedException {
        Path yml = config.resolve("probe-" + x.name() + ".yml");
        Files.writeString(yml, "executor: " + x.name() + "\n"
                + "pin_root: " + ns.pinRoot() + "\n"
                + "event_log: " + logs.toAbsolutePath().resolve(x.name() + ".probe.jsonl") + "\n"
                + "clock_socket: \"off\"\n"
                + "max_offset: 3h\n"
                + "skew:\n  offset: " + x.offsetNanos() + "ns\n  drift_ppm: " + x.driftPpm() + "\n"
                + "targets:\n  cgroups: [" + ns.probedCgroup(x.name()) + "]\n"
                // the JVMs log their own events (agent); their connections still carry the TCP option,
                // so a plain JVM <-> python3 connection orders its messages across executors too
                + "  option_only_cgroups: [" + ns.cgroup(x.name()) + "]\n");
        Path err = stderr.resolve("probe-" + x.name() + ".stderr");
        ChildJvm probe = ChildJvm.startProgram("probe(" + x.name() + ")", List.of(ChildJvm.javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "-jar", probeJar.toAbsolutePath().toString(), "--config", yml.toAbsolutePath().toString()), err);
        children.add(probe);
        Path pin = ns.pinRoot().resolve(x.name()).resolve("clock");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(pin)) {
            if (!probe.process().isAlive()) throw new IOException("the kernel probe of executor " + x.name() + " exited: " + Files.readString(err).strip());
            if (System.nanoTime() > deadline) throw new IOException("the kernel probe of executor " + x.name() + " did not pin its clock at " + pin + " within 30 s; see " + err);
            Thread.sleep(100);
        }
        // the pin appears before the daemon has written the skew into the record: wait for its "running" line
        while (!Files.readString(err).contains("running")) {
            if (!probe.process().isAlive()) throw new IOException("the kernel probe of executor " + x.name() + " exited: " + Files.readString(err).strip());
            if (System.nanoTime() > deadline) throw new IOException("the kernel probe of executor " + x.name() + " did not start within 30 s; see " + err);
            Thread.sleep(100);
        }
        return pin;
    }

    static void deleteContents(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                if (!p.equals(dir)) Files.delete(p);
            }
        }
    }

    static Outcome analyse(String variant, Path out, Path logDir, Map<String, Executor> executors, int processes) throws IOException {
        List<Path> logs;
        try (Stream<Path> s = Files.list(logDir)) {
            logs = s.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
        }
        if (logs.isEmpty()) {
            StringBuilder why = new StringBuilder();
            try (Stream<Path> s = Files.list(out.resolve("stderr"))) {
                for (Path f : s.sorted().toList()) {
                    String text = Files.readString(f).strip();
                    if (!text.isEmpty()) why.append("\n  ").append(f.getFileName()).append(": ").append(text.lines().limit(3).reduce((a, b) -> a + " | " + b).orElse(""));
                }
            }
            throw new IOException("no event logs in " + logDir + ": the agents did not log; their stderr:" + why);
        }
        String[] files = logs.stream().map(Path::toString).toArray(String[]::new);
        Path merged = out.resolve("merged.jsonl"), report = out.resolve("report.html"), shiviz = out.resolve("shiviz.log");
        timeline(concat("merge", "-o", merged.toString()), files);
        int verify = timeline(new String[]{"verify", "--clock", "hlc"}, files);
        timeline(concat("report", "-o", report.toString()), files);
        timeline(concat("export", "--format", "shiviz", "-o", shiviz.toString()), files);

        // each process's skewed clock drifts from its agent's start: recover real time per lane from it
        Map<String, Long> driftEpoch = new HashMap<>();
        RecordedRun first = RecordedRun.read(logs, e -> 0);
        for (Event e : first.events()) {
            Executor x = executors.get(e.node());
            if (x == null) continue;
            driftEpoch.merge(e.lane(), e.pt() - x.offsetNanos(), Math::min);
        }
        RecordedRun run = RecordedRun.read(logs, e -> {
            Executor x = executors.get(e.node());
            return x == null ? e.pt() : RecordedRun.realTimeOf(e.pt(), x.offsetNanos(), x.driftPpm(), driftEpoch.getOrDefault(e.lane(), e.pt()));
        });
        ClockComparison.Comparison c = ClockComparison.compare(run.graph());
        Map<ClockComparison.Clock, Long> violations = new java.util.EnumMap<>(ClockComparison.Clock.class);
        for (ClockComparison.Result r : c.results()) violations.put(r.clock(), r.violations());

        // the same events with the computed Lamport and vector clocks, checked by the timeline's own verifier
        List<Event> annotated = run.withLogicalClocks(c);
        Path clocksLog = out.resolve("clocks.jsonl");
        Files.write(clocksLog, annotated.stream().map(Event::toJsonLine).toList(), StandardCharsets.UTF_8);
        Map<ClockKind, Long> timelineViolations = new java.util.EnumMap<>(ClockKind.class);
        for (ClockKind k : ClockKind.values()) timelineViolations.put(k, Verify.check(annotated, k).violationCount());

        StringBuilder md = new StringBuilder("# Five clocks on the same events\n\n");
        md.append("## The recorded demo run (executors: ").append(variant).append(")\n\n");
        md.append(String.format(Locale.ROOT, "%d processes on executors A (correct clock), B (2 h behind), C (+350 ms, drifting 50 ppm); %d events, %d messages. ",
                processes, run.graph().events().size(), run.graph().messageEdges()));
        md.append("Real time is recovered from each executor's known simulated skew. Lamport and vector clocks are computed from the happened-before graph; ");
        md.append("(d) is recomputed from the recorded physical times, merging only when a connection is accepted.\n\n");
        md.append(ClockComparison.markdownTable(c)).append('\n');
        for (ClockComparison.Result r : c.results()) {
            if (r.firstViolation() != null) md.append("- first violation of ").append(r.clock().title).append(": ").append(r.firstViolation()).append('\n');
        }
        md.append('\n').append(SimulatedComparisons.markdown(null).replaceFirst("^# .*\n", "").replace("\n## ", "\n### "));
        Path comparison = out.resolve("comparison.md");
        Files.writeString(comparison, md.toString(), StandardCharsets.UTF_8);
        return new Outcome(variant, out, processes, run.graph().events().size(), run.graph().messageEdges(), violations, c, verify, report, merged, shiviz, comparison, logs,
                clocksLog, timelineViolations);
    }

    private static String[] concat(String... parts) { return parts; }

    /** Runs one timeline command in this JVM; its output is kept quiet unless it fails. */
    private static int timeline(String[] command, String[] files) throws IOException {
        String[] args = new String[command.length + files.length];
        System.arraycopy(command, 0, args, 0, command.length);
        System.arraycopy(files, 0, args, command.length, files.length);
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code;
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8); PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            code = io.hlctrace.timeline.Main.run(args, po, pe);
        }
        if (code == io.hlctrace.timeline.Main.USAGE) {
            throw new IOException("hlctrace timeline " + command[0] + " failed (exit " + code + "): " + e.toString(StandardCharsets.UTF_8));
        }
        return code;
    }

    public static String summary(Outcome o) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "executors: 3 (A correct, B 2 h behind, C +350 ms drifting 50 ppm), %s%n", o.variant()));
        sb.append(String.format(Locale.ROOT, "processes: %d (JVMs with the agent%s); event logs: %d files%n", o.processes(),
                o.variant().contains("probe") ? ", python3 services and a probe daemon per executor" : "", o.logs().size()));
        sb.append(String.format(Locale.ROOT, "events: %d, messages: %d%n", o.events(), o.messages()));
        sb.append("causality violations (edges going backwards) per clock:\n");
        for (ClockComparison.Result r : o.comparison().results()) {
            sb.append(String.format(Locale.ROOT, "  %-45s %6d of %d%n", r.clock().title, r.violations(), r.edges()));
        }
        sb.append(String.format(Locale.ROOT, "timeline verify --clock hlc on the logs: %s%n", o.timelineVerifyExit() == 0 ? "consistent" : "VIOLATIONS (exit " + o.timelineVerifyExit() + ")"));
        sb.append("timeline verify on clocks.jsonl (independent check of the table):");
        o.timelineViolations().forEach((k, v) -> sb.append(' ').append(k.label()).append(' ').append(v));
        sb.append(" violations\n");
        sb.append("report:     ").append(o.report().toAbsolutePath()).append('\n');
        sb.append("comparison: ").append(o.comparisonFile().toAbsolutePath()).append('\n');
        sb.append("merged log: ").append(o.merged().toAbsolutePath()).append('\n');
        sb.append("clocks:     ").append(o.clocksLog().toAbsolutePath()).append(" (the events with their Lamport and vector clocks: hlctrace timeline verify --clock lamport|vector)\n");
        sb.append("ShiViz:     ").append(o.shiviz().toAbsolutePath()).append(" (paste into https://bestchai.bitbucket.io/shiviz/ with the regex in docs/timeline.md)\n");
        return sb.toString();
    }
}
