package io.hlctrace.probe;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The executor's event log, appended in whole lines only: lines collect in memory and go to the
 * file in one write(2) per batch (or per megabyte), never split at a buffer boundary, so a daemon
 * killed at any moment leaves no half line for the timeline to trip over.
 */
final class EventLogFile implements AutoCloseable {
    private static final int FLUSH_AT = 1 << 20;
    private final Path path;
    private final FileChannel channel;
    private final ProbeLogFormatter.Output pending = new ProbeLogFormatter.Output(FLUSH_AT + 64 * 1024);

    EventLogFile(Path path) throws IOException {
        this.path = path;
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** Queues one line (without its newline). */
    void append(String line) throws IOException {
        pending.put(line.getBytes(StandardCharsets.UTF_8));
        pending.put((byte) '\n');
        flushIfFull();
    }

    /** Where whole lines (UTF-8, each with its newline) may be formatted directly; call {@link #flushIfFull()} after each. */
    ProbeLogFormatter.Output buffer() { return pending; }

    void flushIfFull() throws IOException {
        if (pending.len >= FLUSH_AT) flush();
    }

    /** Writes the queued lines. */
    void flush() throws IOException {
        if (pending.len == 0) return;
        ByteBuffer bytes = ByteBuffer.wrap(pending.buf, 0, pending.len);
        while (bytes.hasRemaining()) channel.write(bytes);
        pending.reset();
    }

    Path path() { return path; }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            channel.close();
        }
    }
}
