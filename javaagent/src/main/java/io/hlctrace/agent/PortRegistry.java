package io.hlctrace.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The executor's registry of instrumented listening ports: a directory (next to the clock file by
 * default) with one file per port, named after the port and holding the owner's pid. A client
 * agent frames a connection to a local address when the port's file names a live process; a stale
 * file (its process gone) counts as absent, so a port reused by a plain server is never framed to.
 */
public final class PortRegistry {
    private final Path dir;
    private final long pid = Agent.pid();
    private final Set<String> mine = ConcurrentHashMap.newKeySet();

    public PortRegistry(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    public Path dir() { return dir; }

    public void register(int port) {
        register(Integer.toString(port));
    }

    /** UDP ports are registered as "udp-PORT". */
    public void registerUdp(int port) {
        register("udp-" + port);
    }

    public boolean isUdpInstrumented(int port) {
        return isInstrumented("udp-" + port);
    }

    private void register(String port) {
        try {
            // not Files.createTempFile: its random names initialise SecureRandom (about 50 classes and
            // a seed read), which the application's first ServerSocket.bind would wait for
            Path tmp = dir.resolve(".port-" + port + "-" + pid + "-" + System.nanoTime() + ".tmp");
            Files.writeString(tmp, pid + "\n", StandardCharsets.US_ASCII, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE);
            Files.move(tmp, dir.resolve(port), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            mine.add(port);
        } catch (IOException e) {
            Agent.warn("could not register port " + port + " in " + dir + " (" + e + "); agents of this executor will talk plain to it unless their config lists it under peers");
        }
    }

    public void unregister(int port) {
        unregister(Integer.toString(port));
    }

    private void unregister(String port) {
        if (!mine.remove(port)) return;
        Path f = dir.resolve(port);
        try {
            String owner = Files.readString(f, StandardCharsets.US_ASCII).trim();
            if (owner.equals(Long.toString(pid))) Files.deleteIfExists(f);
        } catch (IOException ignored) {
            // already gone
        }
    }

    public void unregisterAll() {
        for (String p : Set.copyOf(mine)) unregister(p);
    }

    /** True when an instrumented, live process of this executor listens on {@code port}. */
    public boolean isInstrumented(int port) {
        return isInstrumented(Integer.toString(port));
    }

    private static final Path PROC_SELF = Path.of("/proc/self");

    private boolean isInstrumented(String port) {
        Path f = dir.resolve(port);
        try {
            String owner = Files.readString(f, StandardCharsets.US_ASCII).trim();
            long p = Long.parseLong(owner);
            if (p == pid) return true;
            // /proc answers without starting ProcessHandle's machinery (a thread pool and method
            // handles, tens of milliseconds at start-up); elsewhere ProcessHandle does
            if (Files.isDirectory(PROC_SELF)) return Files.isDirectory(Path.of("/proc", Long.toString(p)));
            java.util.Optional<ProcessHandle> process = ProcessHandle.of(p);
            return process.isPresent() && process.get().isAlive();
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }
}
