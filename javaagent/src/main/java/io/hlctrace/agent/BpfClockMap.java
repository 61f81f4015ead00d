package io.hlctrace.agent;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The kernel probe's clock map (a BPF array map holding one 64-byte ExecutorClockState record,
 * BPF_F_MMAPABLE) mapped into the JVM by a small JNI library built with the module and bundled in
 * the jar: no JNA in the application's JVM.
 */
public final class BpfClockMap {
    private static final String LIBRARY = "/native/linux-x86_64/libhlctrace_bpfclock.so";
    private static boolean loaded;

    private BpfClockMap() {}

    /** The record of the pinned map at {@code bpffsPath} (e.g. /sys/fs/bpf/hlctrace/A/clock). */
    public static ByteBuffer mapPinned(Path bpffsPath) throws IOException {
        load();
        return mapPinned(bpffsPath.toString());
    }

    /** The record of the map whose fd the probe daemon sends over the Unix socket at {@code socket}. */
    public static ByteBuffer mapFromSocket(Path socket) throws IOException {
        load();
        return mapFromSocket(socket.toString());
    }

    private static native ByteBuffer mapPinned(String path) throws IOException;

    private static native ByteBuffer mapFromSocket(String path) throws IOException;

    private static synchronized void load() throws IOException {
        if (loaded) return;
        String arch = System.getProperty("os.arch");
        if (!System.getProperty("os.name").equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new IOException("the BPF clock map needs Linux on x86-64; this JVM runs on " + System.getProperty("os.name") + "/" + arch);
        }
        Path tmp = Files.createTempFile("hlctrace-bpfclock", ".so");
        try (InputStream in = BpfClockMap.class.getResourceAsStream(LIBRARY)) {
            if (in == null) throw new IOException("the agent jar has no " + LIBRARY + " (built without gcc?)");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            System.load(tmp.toString());
        } finally {
            Files.deleteIfExists(tmp); // the loaded library stays mapped
        }
        loaded = true;
    }
}
