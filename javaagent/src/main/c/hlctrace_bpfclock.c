/*
 * Maps the kernel probe's executor clock (a BPF array map with one 64-byte ExecutorClockState value,
 * created with BPF_F_MMAPABLE) into the JVM as a direct ByteBuffer, without JNA: either from the
 * pinned map in bpffs (bpf(BPF_OBJ_GET)) or from a map fd that the probe daemon passes over a Unix
 * socket (SCM_RIGHTS; needs no BPF privilege, used inside containers).
 */
#include <jni.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/bpf.h>

#define RECORD_SIZE 64

static void throw_io(JNIEnv *env, const char *msg) {
    jclass c = (*env)->FindClass(env, "java/io/IOException");
    if (c) (*env)->ThrowNew(env, c, msg);
}

static jobject map_fd(JNIEnv *env, int fd, const char *what) {
    char msg[512];
    struct bpf_map_info info;
    union bpf_attr attr;
    memset(&info, 0, sizeof(info));
    memset(&attr, 0, sizeof(attr));
    attr.info.bpf_fd = fd;
    attr.info.info_len = sizeof(info);
    attr.info.info = (unsigned long) &info;
    if (syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) != 0) {
        int err = errno;
        /* Docker's default seccomp profile forbids bpf() inside containers, where the fd comes
         * from the probe daemon's socket: there, check what the fd is through /proc instead. */
        char link[64], target[64];
        ssize_t n;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        if ((err == EPERM || err == ENOSYS) && (n = readlink(link, target, sizeof target - 1)) > 0
                && (target[n] = 0, strcmp(target, "anon_inode:bpf-map") == 0)) {
            goto map_it;
        }
        snprintf(msg, sizeof msg, "%s is not a BPF map: %s", what, strerror(err));
        close(fd); throw_io(env, msg); return NULL;
    }
    if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != RECORD_SIZE || info.max_entries < 1 || !(info.map_flags & BPF_F_MMAPABLE)) {
        snprintf(msg, sizeof msg, "%s is not an executor clock map (need an mmapable array of 64-byte values; found type %u, value size %u, %u entries, flags 0x%x)",
                 what, info.type, info.value_size, info.max_entries, info.map_flags);
        close(fd); throw_io(env, msg); return NULL;
    }
map_it:;
    long page = sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, (size_t) page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int err = errno;
    close(fd); /* the mapping keeps the map alive */
    if (p == MAP_FAILED) {
        snprintf(msg, sizeof msg, "cannot mmap the clock map %s: %s", what, strerror(err));
        throw_io(env, msg); return NULL;
    }
    return (*env)->NewDirectByteBuffer(env, p, RECORD_SIZE);
}

JNIEXPORT jobject JNICALL Java_io_hlctrace_agent_BpfClockMap_mapPinned(JNIEnv *env, jclass cls, jstring jpath) {
    const char *path = (*env)->GetStringUTFChars(env, jpath, NULL);
    if (!path) return NULL;
    char msg[512];
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.pathname = (unsigned long) path;
    int fd = (int) syscall(__NR_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
    if (fd < 0) {
        snprintf(msg, sizeof msg, "cannot open the pinned clock map %s: %s (is the kernel probe running, and are we root?)", path, strerror(errno));
        (*env)->ReleaseStringUTFChars(env, jpath, path);
        throw_io(env, msg);
        return NULL;
    }
    jobject buf = map_fd(env, fd, path);
    (*env)->ReleaseStringUTFChars(env, jpath, path);
    return buf;
}

JNIEXPORT jobject JNICALL Java_io_hlctrace_agent_BpfClockMap_mapFromSocket(JNIEnv *env, jclass cls, jstring jpath) {
    const char *path = (*env)->GetStringUTFChars(env, jpath, NULL);
    if (!path) return NULL;
    char msg[512];
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr.sun_path)) {
        snprintf(msg, sizeof msg, "socket path too long: %s", path);
        (*env)->ReleaseStringUTFChars(env, jpath, path); throw_io(env, msg); return NULL;
    }
    strcpy(addr.sun_path, path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *) &addr, sizeof(addr)) != 0) {
        snprintf(msg, sizeof msg, "cannot connect to the clock socket %s: %s (is the probe daemon running?)", path, strerror(errno));
        if (s >= 0) close(s);
        (*env)->ReleaseStringUTFChars(env, jpath, path); throw_io(env, msg); return NULL;
    }
    struct timeval tv = {5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char data[16];
    char ctrl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {data, sizeof(data)};
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov; mh.msg_iovlen = 1; mh.msg_control = ctrl; mh.msg_controllen = sizeof(ctrl);
    ssize_t n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
    int err = errno;
    close(s);
    struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
        snprintf(msg, sizeof msg, "the clock socket %s sent no map fd (%s)", path, n < 0 ? strerror(err) : "no SCM_RIGHTS message");
        (*env)->ReleaseStringUTFChars(env, jpath, path); throw_io(env, msg); return NULL;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    jobject buf = map_fd(env, fd, path);
    (*env)->ReleaseStringUTFChars(env, jpath, path);
    return buf;
}
