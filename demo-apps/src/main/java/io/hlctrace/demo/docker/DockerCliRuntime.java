package io.hlctrace.demo.docker;

import io.hlctrace.demo.ChildJvm;
import io.hlctrace.demo.run.Workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * {@link ContainerRuntime} through the engine's command-line client ({@code /usr/bin/docker}, the
 * docker.io client that matches the engine of scripts/docker-engine.sh) with
 * {@code DOCKER_HOST} set to the private engine's socket. Every call is bounded in time. Each
 * started container is followed by a {@code docker start -a} child whose output is the container's.
 */
public final class DockerCliRuntime implements ContainerRuntime {
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
    private final List<String> containers = new CopyOnWriteArrayList<>();
    private final List<String> networks = new CopyOnWriteArrayList<>();
    private final List<ChildJvm> attached = new CopyOnWriteArrayList<>();
    private final Map<String, Path> stderrOf = new java.util.concurrent.ConcurrentHashMap<>();

    static String client() {
        return Files.isExecutable(Path.of("/usr/bin/docker")) ? "/usr/bin/docker" : "docker";
    }

    /** Runs one docker command and returns its standard output; a failure says which command and what docker said. */
    public static String docker(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(client());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("DOCKER_HOST", DockerEngine.DOCKER_HOST);
        Path err = Files.createTempFile("htk-docker", ".err");
        try {
            Process p = pb.redirectError(err.toFile()).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("'docker " + String.join(" ", args) + "' did not finish within " + CALL_TIMEOUT.toSeconds() + " s");
            }
            if (p.exitValue() != 0) {
                throw new IOException("'docker " + shortened(args) + "' failed (exit " + p.exitValue() + "): " + Files.readString(err).strip());
            }
            return new String(out, StandardCharsets.UTF_8).strip();
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static String shortened(String... args) {
        String s = String.join(" ", args);
        return s.length() > 300 ? s.substring(0, 300) + " ..." : s;
    }

    @Override
    public String createNetwork(String name) throws IOException, InterruptedException {
        docker("network", "create", "--driver", "bridge", "--label", "io.hlctrace.demo=" + name, name);
        networks.add(name);
        return docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", name);
    }

    @Override
    public Workload.Output start(Spec spec) throws IOException, InterruptedException {
        // --init: the command is not PID 1, so SIGTERM ends python3 too (PID 1 ignores signals it does not handle)
        List<String> args = new ArrayList<>(List.of("create", "--init", "--name", spec.name(), "--network", spec.network()));
        spec.binds().forEach((host, inside) -> args.addAll(List.of("-v", host.toAbsolutePath() + ":" + inside)));
        spec.env().forEach((k, v) -> args.addAll(List.of("-e", k + "=" + v)));
        spec.labels().forEach((k, v) -> args.addAll(List.of("--label", k + "=" + v)));
        spec.securityOpts().forEach(o -> args.addAll(List.of("--security-opt", o)));
        args.add(spec.image());
        args.addAll(spec.command());
        docker(args.toArray(String[]::new));
        containers.add(spec.name());
        stderrOf.put(spec.name(), spec.stderr());
        return startAgain(spec.name());
    }

    @Override
    public void connect(String container, String network) throws IOException, InterruptedException {
        docker("network", "connect", network, container);
    }

    @Override
    public String ip(String container, String network) throws IOException, InterruptedException {
        String ip = docker("inspect", "-f", "{{(index .NetworkSettings.Networks \"" + network + "\").IPAddress}}", container);
        if (ip.isEmpty() || ip.equals("<no value>")) throw new IOException("container " + container + " has no address on network " + network);
        return ip;
    }

    @Override
    public String id(String container) throws IOException, InterruptedException {
        return docker("inspect", "-f", "{{.Id}}", container);
    }

    @Override
    public Workload.Output startAgain(String container) throws IOException, InterruptedException {
        // attached start: the client relays the container's output (stdout here, stderr to the file) until it exits
        ChildJvm c = ChildJvm.startProgram(container, List.of("env", "DOCKER_HOST=" + DockerEngine.DOCKER_HOST, client(), "start", "-a", container),
                stderrOf.get(container));
        attached.add(c);
        return c;
    }

    @Override
    public void stop(List<String> names, Duration grace) throws IOException, InterruptedException {
        if (names.isEmpty()) return;
        List<String> args = new ArrayList<>(List.of("stop", "-t", Long.toString(grace.toSeconds())));
        args.addAll(names);
        docker(args.toArray(String[]::new));
    }

    @Override
    public synchronized void close() {
        List<String> problems = new ArrayList<>();
        if (!containers.isEmpty()) {
            List<String> args = new ArrayList<>(List.of("rm", "-f", "-v"));
            args.addAll(containers);
            try {
                docker(args.toArray(String[]::new));
            } catch (IOException | InterruptedException e) {
                problems.add("containers " + containers + ": " + e.getMessage());
            }
            containers.clear();
        }
        attached.forEach(ChildJvm::close);
        attached.clear();
        for (String n : networks) {
            try {
                docker("network", "rm", n);
            } catch (IOException | InterruptedException e) {
                problems.add("network " + n + ": " + e.getMessage());
            }
        }
        networks.clear();
        if (!problems.isEmpty()) System.err.println("hlctrace demo --docker: clean-up left " + problems);
    }
}
