package io.hlctrace.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import com.sun.jna.Memory;
import com.sun.jna.Native;

/**
 * Hands the executor clock map to processes that have no BPF privilege (JVM agents inside
 * containers): on each connection to the Unix socket it sends one byte of payload with the clock
 * map's file descriptor attached (SCM_RIGHTS), then closes the connection. The receiver mmaps the
 * fd (4096 bytes, offset 0 = the ExecutorClockState record); mmap of a received map fd needs no
 * BPF privilege. Whoever can connect gets write access to the clock word, so the socket is 0660.
 */
public final class ClockSocketServer implements AutoCloseable {
    private static final LibC C = LibC.INSTANCE;
    private final Path path;
    private final int mapFd;
    private final int listenFd;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long served;

    public ClockSocketServer(Path path, int mapFd) {
        this.path = path;
        this.mapFd = mapFd;
        try {
            Files.createDirectories(path.getParent());
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new ProbeException("cannot prepare the clock socket " + path + ": " + e.getMessage(), "check that " + path.getParent() + " is writable, or set clock_socket: off");
        }
        listenFd = C.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (listenFd < 0) throw new ProbeException("cannot create a Unix socket: " + C.strerror(Native.getLastError()), "");
        Memory addr = sockaddr(path);
        if (C.bind(listenFd, addr, (int) addr.size()) != 0 || C.listen(listenFd, 64) != 0) {
            int errno = Native.getLastError();
            C.close(listenFd);
            throw new ProbeException("cannot listen on the clock socket " + path + ": " + C.strerror(errno), "is another daemon of this executor running? set clock_socket to another path");
        }
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException ignored) {
            // the socket works with default permissions; root-only then
        }
        thread = new Thread(this::serve, "hlctrace-clock-socket");
        thread.setDaemon(true);
        thread.start();
    }

    static Memory sockaddr(Path path) {
        byte[] p = path.toString().getBytes();
        if (p.length > 107) throw new ProbeException("the clock socket path is too long for a Unix socket (" + p.length + " bytes, at most 107): " + path, "choose a shorter clock_socket path");
        Memory addr = new Memory(110);
        addr.clear();
        addr.setShort(0, (short) LibC.AF_UNIX);
        addr.write(2, p, 0, p.length);
        return addr;
    }

    private void serve() {
        Memory pfd = new Memory(8);
        while (running) {
            pfd.setInt(0, listenFd);
            pfd.setShort(4, LibC.POLLIN);
            pfd.setShort(6, (short) 0);
            int n = C.poll(pfd, 1, 200);
            if (n <= 0 || !running) continue;
            int client = C.accept4(listenFd, null, null, LibC.SOCK_CLOEXEC);
            if (client < 0) continue;
            try {
                sendFd(client, mapFd);
                served++;
            } finally {
                C.close(client);
            }
        }
    }

    /** sendmsg with one byte of payload and one SCM_RIGHTS fd (x86-64/aarch64 LP64 layouts). */
    static void sendFd(int socket, int fd) {
        Memory payload = new Memory(1);
        payload.setByte(0, (byte) 'C');
        Memory iov = new Memory(16);
        iov.setPointer(0, payload);
        iov.setLong(8, 1);
        Memory control = new Memory(24); // CMSG_SPACE(sizeof(int))
        control.clear();
        control.setLong(0, 20);          // CMSG_LEN(sizeof(int))
        control.setInt(8, LibC.SOL_SOCKET);
        control.setInt(12, LibC.SCM_RIGHTS);
        control.setInt(16, fd);
        Memory msg = new Memory(56);
        msg.clear();
        msg.setPointer(16, iov);
        msg.setLong(24, 1);
        msg.setPointer(32, control);
        msg.setLong(40, 24);
        C.sendmsg(socket, msg, 0x4000 /* MSG_NOSIGNAL */);
    }

    /** The client side, for tests and tools: connects and returns the received fd (caller closes it). */
    public static int receiveFd(Path path) {
        int s = C.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        try {
            Memory addr = sockaddr(path);
            if (C.connect(s, addr, (int) addr.size()) != 0) {
                throw new ProbeException("cannot connect to " + path + ": " + C.strerror(Native.getLastError()), "is the probe daemon of this executor running?");
            }
            Memory payload = new Memory(1);
            Memory iov = new Memory(16);
            iov.setPointer(0, payload);
            iov.setLong(8, 1);
            Memory control = new Memory(24);
            control.clear();
            Memory msg = new Memory(56);
            msg.clear();
            msg.setPointer(16, iov);
            msg.setLong(24, 1);
            msg.setPointer(32, control);
            msg.setLong(40, 24);
            long n = C.recvmsg(s, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
            if (n != 1 || control.getInt(8) != LibC.SOL_SOCKET || control.getInt(12) != LibC.SCM_RIGHTS) {
                throw new ProbeException("the clock socket " + path + " sent no file descriptor", "is it an hlctrace probe socket?");
            }
            return control.getInt(16);
        } finally {
            C.close(s);
        }
    }

    public long served() { return served; }

    public Path path() { return path; }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        C.close(listenFd);
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a stale socket file is replaced on the next start
        }
    }

}
