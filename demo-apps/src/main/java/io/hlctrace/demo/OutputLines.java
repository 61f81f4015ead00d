package io.hlctrace.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A program's standard output as lines that a reader thread adds and the demo waits for with a
 * bound: a child process ({@link ChildJvm}) or a container's log stream.
 */
public final class OutputLines {
    private static final String EOF = "\u0000EOF";
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final String name;
    private final Path stderr;

    public OutputLines(String name, Path stderr) {
        this.name = name;
        this.stderr = stderr;
    }

    public void add(String line) {
        lines.add(line);
    }

    /** The output ended (the program exited): a waiting {@link #expect} fails at once. */
    public void end() {
        lines.add(EOF);
    }

    /** Waits for the next line that starts with {@code prefix} and returns the rest of it. */
    public String expect(String prefix, Duration timeout, Supplier<String> exitDescription) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String l = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
            if (l == null) throw new IOException(name + " did not say \"" + prefix.strip() + "\" within " + timeout + "; its stderr is in " + stderr);
            if (l.equals(EOF)) {
                lines.add(EOF);
                throw new IOException(name + " exited (" + exitDescription.get() + ") before saying \"" + prefix.strip() + "\"; its stderr is in " + stderr);
            }
            if (l.startsWith(prefix)) return l.substring(prefix.length()).strip();
        }
    }
}
