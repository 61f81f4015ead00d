package io.hlctrace.hlc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The executor clock in a file that every process of an executor maps (on tmpfs by default, e.g.
 * /dev/shm/hlctrace/clock). Layout, 128 bytes:
 *
 * <pre>
 * offset  size  field
 *   0      8    magic "HLCCLOCK" (ASCII)
 *   8      4    format version (1), little-endian
 *  12      4    record size (64), little-endian
 *  16     48    reserved, zero
 *  64     64    the {@link ExecutorClockState} record, native byte order, 64-byte aligned
 * </pre>
 *
 * The file is created atomically (written aside, then renamed) with owner-only permissions, so no
 * process ever maps a half-written header. The word persists across restarts of the processes that
 * use it, so a re-opened clock never goes below what it handed out before.
 */
public final class ExecutorClockFile implements AutoCloseable {
    public static final int VERSION = 1;
    public static final int FILE_SIZE = 128;
    public static final int RECORD_OFFSET = 64;
    private static final byte[] MAGIC = {'H', 'L', 'C', 'C', 'L', 'O', 'C', 'K'};

    private final Path path;
    private final FileChannel channel;
    private final MappedByteBuffer map;
    private final ExecutorClockState state;

    private ExecutorClockFile(Path path, FileChannel channel, MappedByteBuffer map) {
        this.path = path;
        this.channel = channel;
        this.map = map;
        this.state = new ExecutorClockState(map, RECORD_OFFSET);
    }

    /** Opens the clock file at {@code path}, creating it (and its directory) when missing. */
    public static ExecutorClockFile openOrCreate(Path path) throws IOException {
        if (!Files.exists(path)) create(path);
        return open(path);
    }

    /** Opens an existing clock file; a foreign or corrupt file is refused with a message saying why. */
    public static ExecutorClockFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long size = ch.size();
            if (size < FILE_SIZE) {
                throw new CorruptClockFileException(path, "it is " + size + " bytes, a clock file is " + FILE_SIZE);
            }
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, FILE_SIZE);
            for (int i = 0; i < MAGIC.length; i++) {
                if (map.get(i) != MAGIC[i]) throw new CorruptClockFileException(path, "it does not start with the magic \"HLCCLOCK\" (not an hlctrace clock file)");
            }
            int version = map.order(ByteOrder.LITTLE_ENDIAN).getInt(8);
            if (version != VERSION) throw new CorruptClockFileException(path, "its format version is " + version + ", this hlctrace reads version " + VERSION);
            int recordSize = map.getInt(12);
            if (recordSize != ExecutorClockState.SIZE) throw new CorruptClockFileException(path, "its record size is " + recordSize + ", expected " + ExecutorClockState.SIZE);
            return new ExecutorClockFile(path, ch, map);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void create(Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".clock", ".tmp", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            ByteBuffer header = ByteBuffer.allocate(FILE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            header.put(MAGIC).putInt(VERSION).putInt(ExecutorClockState.SIZE);
            header.clear();
            try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.WRITE))) {
                while (header.hasRemaining()) ch.write(header);
                ch.force(true);
            }
            try {
                // ATOMIC_MOVE fails rather than replace on some file systems; a link never replaces
                Files.createLink(path, tmp);
            } catch (FileAlreadyExistsException raced) {
                // another process created it first: use theirs
            } catch (UnsupportedOperationException | IOException noLinks) {
                try {
                    Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, path);
                }
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public Path path() { return path; }

    public ExecutorClockState state() { return state; }

    public ClockCell cell() { return state.hlcCell(); }

    @Override
    public void close() throws IOException {
        channel.close(); // the mapping stays valid until the buffer is collected, as MappedByteBuffer documents
    }

    /** The file at a path is not a usable hlctrace clock file. */
    public static final class CorruptClockFileException extends IOException {
        public CorruptClockFileException(Path path, String why) {
            super("cannot use " + path + " as the executor clock: " + why
                    + ". Remove it, or point the clock location at another path.");
        }
    }
}
