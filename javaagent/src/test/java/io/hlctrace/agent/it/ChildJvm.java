package io.hlctrace.agent.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A child JVM running {@link Peer} with the real agent jar (or without it), killed on close. */
final class ChildJvm implements AutoCloseable {
    static final String JAVA = System.getProperty("hlctrace.child.java", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    static final String AGENT_JAR = System.getProperty("hlctrace.agent.jar", "target/hlctrace-agent.jar");
    static final String CLASSES = System.getProperty("hlctrace.child.classes", "target/test-classes");

    final Process process;
    final Path stderr;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> allLines = java.util.Collections.synchronizedList(new ArrayList<>());

    private ChildJvm(Process p, Path stderr) {
        this.process = p;
        this.stderr = stderr;
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) { lines.add(l); allLines.add(l); }
            } catch (IOException ignored) {
                // process ended
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** Starts Peer with the agent; {@code config} may be null (no config: defaults). */
    static ChildJvm withAgent(Path workDir, Path config, String... args) throws IOException {
        return withAgent(workDir, config, List.of(), args);
    }

    /** Starts Peer with the agent and these options of the JVM. */
    static ChildJvm withAgent(Path workDir, Path config, List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(JAVA));
        cmd.addAll(jvmOptions);
        cmd.add("-javaagent:" + Path.of(AGENT_JAR).toAbsolutePath() + (config == null ? "" : "=" + config));
        return start(workDir, cmd, args);
    }

    static ChildJvm plain(Path workDir, String... args) throws IOException {
        return start(workDir, new ArrayList<>(List.of(JAVA)), args);
    }

    private static ChildJvm start(Path workDir, List<String> cmd, String... args) throws IOException {
        if (!Files.isRegularFile(Path.of(AGENT_JAR))) throw new IllegalStateException("agent jar " + AGENT_JAR + " missing: run mvn package first");
        String h2;
        try {
            h2 = Path.of(org.h2.Driver.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        cmd.addAll(List.of("-cp", Path.of(CLASSES).toAbsolutePath() + java.io.File.pathSeparator + h2, Peer.class.getName()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectError(err.toFile());
        return new ChildJvm(pb.start(), err);
    }

    /** The next stdout line, waiting at most 30 s. */
    String nextLine() throws InterruptedException {
        String l = lines.poll(30, TimeUnit.SECONDS);
        if (l == null) throw new AssertionError("child printed nothing for 30 s; stderr:\n" + stderrText());
        return l;
    }

    int port() throws InterruptedException {
        String l = nextLine();
        if (!l.startsWith("PORT ")) throw new AssertionError("expected PORT line, got " + l + "; stderr:\n" + stderrText());
        return Integer.parseInt(l.substring(5));
    }

    /** Waits for a line containing {@code part}, at most 30 s. */
    String awaitLine(String part) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end) {
            String l = lines.poll(1, TimeUnit.SECONDS);
            if (l != null && l.contains(part)) return l;
        }
        throw new AssertionError("no line containing '" + part + "' within 30 s; stdout so far: " + allLines + "; stderr:\n" + stderrText());
    }

    int waitFor() throws InterruptedException {
        if (!process.waitFor(90, TimeUnit.SECONDS)) throw new AssertionError("child did not finish within 90 s; stderr:\n" + stderrText());
        return process.exitValue();
    }

    String stderrText() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** Ends the child through SIGTERM so its shutdown hook flushes the event log. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) stop();
    }
}
