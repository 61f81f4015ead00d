package io.hlctrace.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM started from this JVM's own class path (the demo jar, or the test class path), with a
 * line protocol on stdin/stdout and bounded waits, so a stuck child fails a run instead of hanging it.
 */
public final class ChildJvm implements AutoCloseable, io.hlctrace.demo.run.Workload.Output {
    private final String name;
    private final Process process;
    private final PrintWriter in;
    private final OutputLines lines;

    private ChildJvm(String name, Process process, Path stderr) {
        this.name = name;
        this.process = process;
        this.lines = new OutputLines(name, stderr);
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) lines.add(l);
            } catch (IOException ignored) {
                // the child died: the EOF marker below tells the waiting side
            }
            lines.end();
        }, name + "-stdout");
        t.setDaemon(true);
        t.start();
    }

    public static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts {@code mainClass} with {@code jvmArgs} (before the class) and {@code args}; stderr goes to {@code stderr}. */
    public static ChildJvm start(String name, List<String> jvmArgs, String mainClass, List<String> args, Path stderr) throws IOException {
        return start(name, List.of(), jvmArgs, mainClass, args, stderr);
    }

    /**
     * The same, with {@code prefix} before the java command: a wrapper that places the JVM, for
     * example, in a network namespace and a cgroup and then execs it.
     */
    public static ChildJvm start(String name, List<String> prefix, List<String> jvmArgs, String mainClass, List<String> args, Path stderr) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(javaBinary());
        // small, quick-starting JVMs: several run at once on a 2-core machine
        cmd.add("-Xmx96m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(stderr.toFile());
        return new ChildJvm(name, pb.start(), stderr);
    }

    /** Any program (a probe daemon, python3), with the same line protocol and bounded waits. */
    public static ChildJvm startProgram(String name, List<String> command, Path stderr) throws IOException {
        return new ChildJvm(name, new ProcessBuilder(command).redirectError(stderr.toFile()).start(), stderr);
    }

    public void send(String line) {
        in.println(line);
    }

    /** Waits for the next line that starts with {@code prefix} and returns the rest of it. */
    @Override
    public String expect(String prefix, Duration timeout) throws IOException, InterruptedException {
        return lines.expect(prefix, timeout, this::exitDescription);
    }

    private String exitDescription() {
        try {
            return process.waitFor(2, TimeUnit.SECONDS) ? "exit code " + process.exitValue() : "still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    public Process process() { return process; }
    public String name() { return name; }

    @Override
    public boolean waitFor(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Ends the child (politely first, then forcibly) and waits a bounded time for it. */
    @Override
    public void close() {
        if (!process.isAlive()) return;
        in.close();
        process.destroy();
        try {
            if (!process.waitFor(3, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(3, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
