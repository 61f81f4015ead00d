package io.hlctrace.probe;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The libc calls the probe needs beyond the JDK: mount, mmap, adjtimex, Unix sockets with SCM_RIGHTS. */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
    int O_RDONLY = 0, O_DIRECTORY = 0200000, O_CLOEXEC = 02000000;
    int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 02000000;
    int SOL_SOCKET = 1, SCM_RIGHTS = 1;
    short POLLIN = 1;

    int mount(String source, String target, String fstype, long flags, Pointer data);

    Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    int munmap(Pointer addr, long length);

    int open(String path, int flags);

    int close(int fd);

    int geteuid();

    int adjtimex(Pointer timex);

    int vsnprintf(byte[] buffer, long size, Pointer format, Pointer args);

    int socket(int domain, int type, int protocol);

    int bind(int fd, Pointer addr, int len);

    int listen(int fd, int backlog);

    int accept4(int fd, Pointer addr, Pointer len, int flags);

    int connect(int fd, Pointer addr, int len);

    long sendmsg(int fd, Pointer msghdr, int flags);

    long recvmsg(int fd, Pointer msghdr, int flags);

    int poll(Pointer fds, long nfds, int timeoutMs);

    String strerror(int errno);
}
