package io.hlctrace.demo.docker;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The private Docker engine of scripts/docker-engine.sh (docs/docker.md), for the container demo
 * and the container tests: its socket, its locally built images, and {@link #start()}, which runs
 * the script once per JVM (installing docker.io and building the images on first use; later runs
 * reuse them and take under a second).
 */
public final class DockerEngine {
    public static final Path SOCKET = Path.of("/run/hlctrace-docker/docker.sock");
    public static final String DOCKER_HOST = "unix://" + SOCKET;
    /** Debian minbase with python3 and curl. */
    public static final String PYTHON_IMAGE = "htk/python:1";
    /** {@link #PYTHON_IMAGE} plus the host's JDK 17 at /opt/java (on PATH). */
    public static final String JVM_IMAGE = "htk/jvm:1";
    /** {@link #JVM_IMAGE} plus libbpf, for the kernel probe (its jar mounted at /opt/hlctrace/hlctrace-probe.jar). */
    public static final String PROBE_IMAGE = "htk/probe:1";
    /** scripts/docker-engine.sh's exit code for "not root: no engine can be started here". */
    public static final int EXIT_NOT_ROOT = 77;
    private static final long START_TIMEOUT_SECONDS = 300;

    private static String notRunningReason;
    private static boolean started;

    private DockerEngine() {}

    /** The checkout this code runs from: the first directory above it (or above the working directory) with scripts/docker-engine.sh. */
    public static Path projectRoot() {
        for (Path start : candidates()) {
            for (Path p = start; p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("scripts/docker-engine.sh"))) return p;
            }
        }
        throw new IllegalStateException("scripts/docker-engine.sh not found above " + candidates()[0] + " or " + candidates()[1]
                + ": run from an hlctrace checkout");
    }

    private static Path[] candidates() {
        Path code;
        try {
            code = Path.of(DockerEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | RuntimeException e) {
            code = Path.of("").toAbsolutePath();
        }
        return new Path[] {code, Path.of("").toAbsolutePath()};
    }

    /**
     * Starts the engine if it is not running. Returns null when it runs, or why it cannot run here
     * (not root), for a skip or a fallback. Throws when it should start but does not (root, yet the
     * script fails): the message carries the script's output, which says what and why.
     */
    public static synchronized String start() throws IOException, InterruptedException {
        if (started) return null;
        if (notRunningReason != null) return notRunningReason;
        Path script = projectRoot().resolve("scripts/docker-engine.sh");
        Path out = Files.createTempFile("hlctrace-docker-engine", ".log");
        try {
            Process p = new ProcessBuilder(script.toString(), "start").redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IOException(script + " start did not finish within " + START_TIMEOUT_SECONDS + " s; its output:\n" + read(out));
            }
            String output = read(out);
            if (p.exitValue() == EXIT_NOT_ROOT) {
                notRunningReason = "no Docker engine can be started here because this is not root (scripts/docker-engine.sh start"
                        + " needs root to install docker.io and run dockerd): " + output.strip().replace('\n', ' ');
                return notRunningReason;
            }
            if (p.exitValue() != 0) throw new IOException(script + " start failed (exit " + p.exitValue() + "); its output:\n" + output);
            started = true;
            return null;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
