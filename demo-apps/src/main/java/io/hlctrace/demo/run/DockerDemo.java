package io.hlctrace.demo.run;

import io.hlctrace.demo.ChildJvm;
import io.hlctrace.demo.apps.Services;
import io.hlctrace.demo.docker.ContainerRuntime;
import io.hlctrace.demo.docker.DockerCliRuntime;
import io.hlctrace.demo.docker.DockerEngine;
import io.hlctrace.demo.run.Demo.Executor;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code hlctrace demo --docker}: the demo's services and workload ({@link Workload}) as containers
 * on the private engine of scripts/docker-engine.sh. Each executor A, B, C is a user-defined bridge
 * network {@code htk<id>-a|b|c} with one kernel probe daemon (a child process on the host) that
 * owns the executor's clock, serves it on a Unix socket, and follows the executor's non-JVM
 * containers by name through the Docker API. JVM containers ({@code htk/jvm:1}) get the agent as a
 * mounted jar and {@code JAVA_TOOL_OPTIONS}, and reach the executor clock through the mounted
 * socket directory ({@code clock: unix:...}), with no extra privileges; python3 containers
 * ({@code htk/python:1}) are stamped by the probe only. The python3 client runs twice, its
 * container started again in between: the probe detaches when it goes and attaches when it is back.
 * Then the same merge, verify, report and comparison as the other variants ({@link Demo#analyse}).
 */
public final class DockerDemo {
    private DockerDemo() {}

    /** How the probes followed the containers: attach and detach counts per executor, from their output. */
    public record Followed(String executor, List<String> names, int attached, int detached) {}

    /** A container run: the common outcome plus what the probes followed. */
    public record Result(Demo.Outcome outcome, List<Followed> followed, int pythonClientRuns, long pythonClientEvents) {}

    /** Runs of the python3 client container: the second one is a restart the probe must follow. */
    public static final int PYTHON_CLIENT_RUNS = 2;
    static final String AGENT_IN_CONTAINER = "/opt/hlctrace/hlctrace-agent.jar";
    static final String GATE = "/htk-gate";
    private static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(20);
    /**
     * Security options of the JVM containers: none. Docker's default seccomp profile blocks bpf(),
     * so the agent identifies the clock map's fd it received over the socket through /proc
     * (anon_inode:bpf-map) and maps it; mmap needs no privilege.
     */
    static final List<String> JVM_SECURITY_OPTS = List.of();

    /**
     * Why the container demo cannot run here, or null. Starts the engine (scripts/docker-engine.sh,
     * which installs docker.io and builds the images on first use) when it can.
     */
    public static String unavailableReason(Path probeJar) throws IOException, InterruptedException {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not running as root: the Docker engine, the kernel probes (BPF) and the containers' cgroups need root; run it with sudo";
        }
        String noProbe = Demo.probeUnavailableReason(probeJar);
        if (noProbe != null) return noProbe + " (each executor's clock and the python3 containers' stamps come from the kernel probe)";
        return DockerEngine.start();
    }

    /** Set when the JVM is shutting down (Ctrl-C, SIGTERM): the failure that follows is the interrupt. */
    private static volatile boolean stopping;

    public static void main(Path out, int requests) throws Exception {
        long t0 = System.nanoTime();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopping = true, "hlctrace-docker-demo-stopping"));
        Path agent = Demo.findAgentJar();
        Path probeJar = Demo.findProbeJar();
        String why;
        try {
            why = unavailableReason(probeJar);
        } catch (IOException e) {
            System.err.println("hlctrace demo --docker: the Docker engine did not start: " + e.getMessage());
            System.exit(1);
            return;
        }
        if (why != null) {
            System.err.println("hlctrace demo --docker: cannot run here because " + why + ".");
            System.err.println("  Without --docker, `hlctrace demo` runs the same services in network namespaces (root) or on loopback.");
            System.exit(1);
            return;
        }
        System.out.println("hlctrace demo --docker: executors A, B, C as Docker networks (prefix htk) on " + DockerEngine.DOCKER_HOST + ";");
        System.out.println("  a kernel probe per executor following its python3 containers by name; JVM containers with the agent (mounted jar,");
        System.out.println("  JAVA_TOOL_OPTIONS) on the executor's clock through the probe's Unix socket;");
        System.out.println("  clock errors: A correct, B 2 h behind, C +350 ms drifting 50 ppm (the executor clock's physical-clock source).");
        Result r;
        try {
            r = run(out, requests, agent, probeJar, new DockerCliRuntime());
        } catch (IOException e) {
            if (stopping) {
                System.out.println("hlctrace demo --docker: interrupted; containers, networks, probes and pins were removed.");
                System.exit(130);
            }
            System.err.println("hlctrace demo --docker: failed: " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println();
        System.out.print(summary(r));
        System.out.printf(Locale.ROOT, "finished in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Runs the services as containers through {@code runtime} (closed here, also on failure and on
     * JVM shutdown), then the timeline and the comparison.
     */
    public static Result run(Path out, int requests, Path agentJar, Path probeJar, ContainerRuntime runtime) throws IOException, InterruptedException {
        String id = "htk" + ProcessHandle.current().pid() % 100_000;
        Path logs = out.resolve("logs"), config = out.resolve("config"), stderr = out.resolve("stderr"), gates = out.resolve("gates");
        for (Path d : List.of(logs, config, stderr, gates)) Files.createDirectories(d);
        for (Path d : List.of(logs, gates)) Demo.deleteContents(d);
        Path pinRoot = Path.of("/sys/fs/bpf", id), socketRoot = Path.of("/run", id);
        Map<String, Executor> byName = new LinkedHashMap<>();
        for (Executor e : Demo.EXECUTORS) byName.put(e.name(), e);

        List<ChildJvm> probes = new CopyOnWriteArrayList<>();
        Thread cleanup = new Thread(() -> {
            System.err.println("hlctrace demo --docker: interrupted; removing its containers, networks, probes and pins");
            runtime.close();
            probes.forEach(ChildJvm::close);
            removeQuietly(pinRoot, socketRoot);
        }, "hlctrace-docker-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        String variant;
        List<Followed> followed = new ArrayList<>();
        Map<String, String> networks = new LinkedHashMap<>(), subnets = new LinkedHashMap<>();
        ContainerPlacement placement;
        try {
            for (Executor x : byName.values()) {
                String net = id + "-" + x.name().toLowerCase(Locale.ROOT);
                subnets.put(x.name(), runtime.createNetwork(net));
                networks.put(x.name(), net);
            }
            Map<String, Path> probeOutput = new HashMap<>();
            for (Executor x : byName.values()) {
                List<String> names = x.name().equals("C") ? List.of(id + "-" + Workload.PYTHON_HTTP, id + "-" + Workload.PYTHON_CLIENT) : List.of();
                probeOutput.put(x.name(), startProbe(probes, x, id, names, pinRoot, socketRoot, probeJar, config, logs, stderr));
            }
            variant = "Docker networks " + String.join(", ", byName.keySet().stream().map(x -> networks.get(x) + " (" + subnets.get(x) + ")").toList())
                    + " on " + DockerEngine.DOCKER_HOST + "; a kernel probe per executor following its containers by name; python3 containers";
            placement = new ContainerPlacement(runtime, id, networks, subnets, probeOutput, agentJar, socketRoot, config, logs, stderr, gates);
            System.out.println("workload: " + Workload.run(placement, requests, true, PYTHON_CLIENT_RUNS));
            // SIGTERM to the services (the agents flush their logs), then to the probes that stamped them
            List<String> started = new ArrayList<>(placement.started);
            java.util.Collections.reverse(started);
            runtime.stop(started, Duration.ofSeconds(10));
            // the probes see every stopped container go (they poll the Docker API every 2 s) before they stop themselves
            for (Map.Entry<String, List<String>> e : placement.probed.entrySet()) {
                for (String c : e.getValue()) placement.awaitProbe(e.getKey(), "container " + runtime.id(c).substring(0, 12) + " is gone; detached", placement.runs.get(c));
            }
            for (int i = probes.size() - 1; i >= 0; i--) probes.get(i).close();
            for (Executor x : byName.values()) {
                String text = read(probeOutput.get(x.name()));
                List<String> names = placement.probed.getOrDefault(x.name(), List.of());
                followed.add(new Followed(x.name(), names, count(text, "attached to container "), count(text, " is gone; detached")));
            }
        } finally {
            runtime.close();
            probes.forEach(ChildJvm::close);
            removeQuietly(pinRoot, socketRoot);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException ignored) {
                // already shutting down: the hook runs anyway
            }
        }
        requireAgentLogs(placement.jvms, logs, stderr);
        Demo.Outcome o = Demo.analyse(variant, out, logs, byName, placement.started.size() + probes.size());
        long pyClientEvents = io.hlctrace.timeline.EventLogs.readAll(o.logs()).stream()
                .filter(e -> e.src().equals("probe") && e.proc().startsWith("python3") && placement.httpServiceAddress.equals(e.remote()))
                .count();
        return new Result(o, followed, PYTHON_CLIENT_RUNS, pyClientEvents);
    }

    /** The workload's services as containers: JVMs with the agent, python3 programs behind the probe. */
    private static final class ContainerPlacement implements Workload.Placement {
        final ContainerRuntime runtime;
        final String id;
        final Map<String, String> networks, subnets;
        final Map<String, Path> probeOutput;
        final Path agentJar, socketRoot, config, logs, stderr, gates, code;
        final List<String> started = new ArrayList<>();
        final Map<String, List<String>> probed = new HashMap<>();
        final Map<String, Integer> runs = new HashMap<>();
        final Map<String, String> executorOf = new HashMap<>();
        final Map<String, String> jvms = new LinkedHashMap<>();
        String httpServiceAddress = "-";

        ContainerPlacement(ContainerRuntime runtime, String id, Map<String, String> networks, Map<String, String> subnets, Map<String, Path> probeOutput,
                           Path agentJar, Path socketRoot, Path config, Path logs, Path stderr, Path gates) throws IOException {
            this.runtime = runtime;
            this.id = id;
            this.networks = networks;
            this.subnets = subnets;
            this.probeOutput = probeOutput;
            this.agentJar = agentJar;
            this.socketRoot = socketRoot;
            this.config = config;
            this.logs = logs;
            this.stderr = stderr;
            this.gates = gates;
            this.code = codeLocation();
        }

        String container(String name) { return id + "-" + name; }

        @Override
        public Workload.Output startJvm(String service, String executor, List<String> args) throws IOException, InterruptedException {
            Path cfg = config.resolve(service + ".yml");
            // the executor's clock through the probe's socket (mounted below); the probe's record carries the skew
            Files.writeString(cfg, "node: " + executor + "\n"
                    + "process: " + service + "\n"
                    + "clock: unix:/run/hlctrace/" + executor + "/clock.sock\n"
                    + "ports: {" + Workload.PYTHON_HTTP_PORT + ": plain}\n"
                    // B is two hours behind and there is no clock sync here: a guard below 2 h would refuse every message to B
                    + "maxOffset: 3h\n"
                    + "logDir: /var/log/hlctrace\n"
                    + "registry: false\n"
                    // every JVM on the executors' networks runs the agent
                    + "peers:\n  - {cidrs: [" + String.join(", ", subnets.values()) + "]}\n");
            String name = container(service);
            jvms.put(service, executor);
            String app = "/opt/hlctrace-demo/" + code.getFileName();
            Map<Path, String> binds = new LinkedHashMap<>();
            binds.put(agentJar, AGENT_IN_CONTAINER + ":ro");
            binds.put(cfg, "/etc/hlctrace/agent.yml:ro");
            binds.put(socketRoot.resolve(executor), "/run/hlctrace/" + executor);
            binds.put(logs, "/var/log/hlctrace");
            binds.put(code, app + ":ro");
            List<String> java = List.of("java", "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dhlctrace.demo.bind=any",
                    "-cp", app, Services.class.getName());
            Workload.Output o = start(name, executor, DockerEngine.JVM_IMAGE, binds,
                    Map.of("JAVA_TOOL_OPTIONS", "-javaagent:" + AGENT_IN_CONTAINER + "=/etc/hlctrace/agent.yml"), JVM_SECURITY_OPTS, Demo.concat(java, args));
            // the other executors' networks are the routes between hosts: a JVM reaches the services it calls there
            for (Map.Entry<String, String> n : networks.entrySet()) if (!n.getKey().equals(executor)) runtime.connect(name, n.getValue());
            openGate(name);
            return o;
        }

        @Override
        public Workload.Output startPython(String name, String executor, String script, List<String> args) throws IOException, InterruptedException {
            String c = container(name);
            probed.computeIfAbsent(executor, k -> new ArrayList<>()).add(c);
            Workload.Output o = start(c, executor, DockerEngine.PYTHON_IMAGE, new LinkedHashMap<>(), Map.of(), List.of(),
                    Demo.concat(List.of("python3", "-u", "-c", script), args));
            // nothing may connect before the probe stamps the container: it runs only once the probe attached
            awaitProbe(executor, "attached to container " + c + " (", 1);
            openGate(c);
            return o;
        }

        @Override
        public Workload.Output restartPython(String name) throws IOException, InterruptedException {
            String c = container(name);
            String executor = executorOf.get(c);
            int run = runs.get(c);
            // the probe must see it gone first: the restarted container gets a new cgroup directory under the same id
            awaitProbe(executor, "container " + runtime.id(c).substring(0, 12) + " is gone; detached", run);
            Workload.Output o = runtime.startAgain(c);
            awaitProbe(executor, "attached to container " + c + " (", run + 1);
            openGate(c);
            return o;
        }

        @Override
        public String address(String executor, String name, String port) throws IOException, InterruptedException {
            String address = runtime.ip(container(name), networks.get(executor)) + ":" + port;
            if (name.equals("http-service")) httpServiceAddress = address;
            return address;
        }

        private Workload.Output start(String name, String executor, String image, Map<Path, String> binds, Map<String, String> env, List<String> securityOpts,
                                      List<String> command)
                throws IOException, InterruptedException {
            Path gate = Files.createDirectories(gates.resolve(name));
            binds.put(gate, GATE);
            // run N waits for GATE/goN, written once the container is on all its networks and, for a
            // probed one, once the probe attached; a restart of the container is the next run
            List<String> gated = new ArrayList<>(List.of("sh", "-c", "i=1; while [ -e " + GATE + "/started$i ]; do i=$((i+1)); done; : > " + GATE + "/started$i;"
                    + " while [ ! -e " + GATE + "/go$i ]; do sleep 0.05; done; exec \"$@\"", "htk-gate"));
            gated.addAll(command);
            Workload.Output o = runtime.start(new ContainerRuntime.Spec(name, image, networks.get(executor), binds, env,
                    Map.of("io.hlctrace.demo", id, "io.hlctrace.executor", executor), securityOpts, gated, stderr.resolve(name + ".stderr")));
            started.add(name);
            executorOf.put(name, executor);
            return o;
        }

        private void openGate(String name) throws IOException {
            int run = runs.merge(name, 1, Integer::sum);
            Files.writeString(gates.resolve(name).resolve("go" + run), "");
        }

        private void awaitProbe(String executor, String text, int times) throws IOException, InterruptedException {
            Path file = probeOutput.get(executor);
            long deadline = System.nanoTime() + ATTACH_TIMEOUT.toNanos();
            while (count(read(file), text) < times) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("the kernel probe of executor " + executor + " did not report \"" + text + "\" " + times + " time(s) within "
                            + ATTACH_TIMEOUT.toSeconds() + " s; its output is in " + file);
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * An agent that could not start leaves its JVM uninstrumented and the run without its events:
     * a clear failure, with the agent's own words, rather than a comparison of what is left.
     */
    private static void requireAgentLogs(Map<String, String> jvms, Path logs, Path stderr) throws IOException {
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> j : jvms.entrySet()) {
            String prefix = j.getValue() + "-" + j.getKey() + "_";
            boolean found;
            try (var s = Files.list(logs)) {
                found = s.anyMatch(p -> p.getFileName().toString().startsWith(prefix) && p.toString().endsWith(".jsonl"));
            }
            if (found) continue;
            missing.add(j.getKey());
        }
        if (missing.isEmpty()) return;
        StringBuilder why = new StringBuilder();
        try (var s = Files.list(stderr)) {
            for (Path f : s.sorted().toList()) {
                String n = f.getFileName().toString();
                if (missing.stream().noneMatch(m -> n.endsWith("-" + m + ".stderr"))) continue;
                read(f).lines().filter(l -> l.startsWith("hlctrace agent")).findFirst().ifPresent(l -> why.append("\n  ").append(n).append(": ").append(l));
            }
        }
        throw new IOException("no event log from the agent in " + String.join(", ", missing) + " (in " + logs + "):" + why);
    }

    /** Starts executor x's probe daemon following {@code names}, and waits until it runs and serves its clock socket. */
    private static Path startProbe(List<ChildJvm> probes, Executor x, String id, List<String> names, Path pinRoot, Path socketRoot, Path probeJar,
                                   Path config, Path logs, Path stderr) throws IOException, InterruptedException {
        Path socket = Files.createDirectories(socketRoot.resolve(x.name())).resolve("clock.sock");
        Path yml = config.resolve("probe-" + x.name() + ".yml");
        Files.writeString(yml, "executor: " + x.name() + "\n"
                + "pin_root: " + pinRoot + "\n"
                + "event_log: " + logs.toAbsolutePath().resolve(x.name() + ".probe.jsonl") + "\n"
                + "clock_socket: " + socket + "\n"
                + "max_offset: 3h\n"
                + "skew:\n  offset: " + x.offsetNanos() + "ns\n  drift_ppm: " + x.driftPpm() + "\n"
                + "targets:\n  docker:\n    socket: " + DockerEngine.SOCKET + "\n"
                + "    names: [" + String.join(", ", names) + "]\n"
                // a label for containers a user adds to this executor; on A and B it is the probe's only target
                + "    labels: [io.hlctrace.probe=" + id + "-" + x.name().toLowerCase(Locale.ROOT) + "]\n");
        Path err = stderr.resolve("probe-" + x.name() + ".stderr");
        ChildJvm probe = ChildJvm.startProgram("probe(" + x.name() + ")", List.of(ChildJvm.javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "-jar", probeJar.toAbsolutePath().toString(), "--config", yml.toAbsolutePath().toString()), err);
        probes.add(probe);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!read(err).contains("running") || !Files.exists(socket)) {
            if (!probe.process().isAlive()) throw new IOException("the kernel probe of executor " + x.name() + " exited: " + read(err).strip());
            if (System.nanoTime() > deadline) throw new IOException("the kernel probe of executor " + x.name() + " did not start within 30 s; see " + err);
            Thread.sleep(100);
        }
        return err;
    }

    private static Path codeLocation() throws IOException {
        try {
            return Path.of(Services.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException e) {
            throw new IOException("cannot tell where the demo's services are: " + e);
        }
    }

    static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + what.length())) n++;
        return n;
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** This run's pins and clock sockets (the probes keep their pinned clock on purpose, for a restarted daemon). */
    private static void removeQuietly(Path... dirs) {
        for (Path d : dirs) {
            if (!Files.exists(d)) continue;
            try {
                Namespaces.sh("rm", "-rf", d.toString());
            } catch (IOException | InterruptedException e) {
                System.err.println("hlctrace demo --docker: clean-up left " + d + ": " + e.getMessage());
            }
        }
    }

    public static String summary(Result r) {
        StringBuilder sb = new StringBuilder(Demo.summary(r.outcome()));
        sb.append("probes following containers by name (Docker API):\n");
        for (Followed f : r.followed()) {
            sb.append(String.format(Locale.ROOT, "  %s: %s; attached %d time(s), detached %d time(s)%n", f.executor(),
                    f.names().isEmpty() ? "no non-JVM container (the probe serves the executor clock to the JVM containers)" : String.join(", ", f.names()),
                    f.attached(), f.detached()));
        }
        sb.append(String.format(Locale.ROOT, "python3 client container: %d runs (started again in between), %d events stamped by probe C on its connections%n",
                r.pythonClientRuns(), r.pythonClientEvents()));
        return sb.toString();
    }
}
