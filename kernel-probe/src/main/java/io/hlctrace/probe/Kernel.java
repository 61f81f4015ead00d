package io.hlctrace.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.sun.jna.Memory;
import com.sun.jna.Native;

/** Checks and mounts of the kernel interfaces the probe needs, each failing with a message for people. */
final class Kernel {
    static final Path BTF = Path.of("/sys/kernel/btf/vmlinux");
    static final Path BPFFS = Path.of("/sys/fs/bpf");
    static final Path TRACEFS = Path.of("/sys/kernel/tracing");

    private Kernel() {}

    static boolean isRoot() {
        return LibC.INSTANCE.geteuid() == 0;
    }

    static void requireRoot() {
        if (!isRoot()) {
            throw new ProbeException("the kernel probe must run as root: it loads BPF programs, attaches them to cgroups and pins maps in bpffs (needs CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)",
                    "run it with sudo, or as the systemd unit kernel-probe/dist/hlctrace-probe@.service");
        }
    }

    static void requireBtf() {
        if (!Files.isReadable(BTF)) {
            throw new ProbeException("this kernel has no BTF type information at " + BTF + ": the probe's CO-RE programs and tp_btf tracepoints need it",
                    "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (every major distribution kernel since 2021 is)");
        }
    }

    /** Mount points and their file system types, from /proc/self/mounts. */
    static String fsTypeAt(Path dir) {
        try {
            String best = null;
            int bestLen = -1;
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length < 3) continue;
                String mp = f[1].replace("\\040", " ");
                if ((dir.toString().equals(mp) || dir.toString().startsWith(mp.endsWith("/") ? mp : mp + "/")) && mp.length() > bestLen) {
                    best = f[2];
                    bestLen = mp.length();
                }
            }
            return best;
        } catch (IOException e) {
            throw new ProbeException("cannot read /proc/self/mounts: " + e.getMessage(), "is /proc mounted?");
        }
    }

    static boolean isMountPoint(Path dir, String fstype) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length >= 3 && f[1].equals(dir.toString()) && f[2].equals(fstype)) return true;
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** Mounts bpffs at /sys/fs/bpf and tracefs at /sys/kernel/tracing when they are missing. */
    static List<String> mountFileSystems() {
        List<String> done = new java.util.ArrayList<>();
        if (!isMountPoint(BPFFS, "bpf")) {
            mount("bpf", BPFFS, "bpf");
            done.add("mounted bpffs at " + BPFFS);
        }
        if (!isMountPoint(TRACEFS, "tracefs") && Files.isDirectory(TRACEFS)) {
            mount("tracefs", TRACEFS, "tracefs");
            done.add("mounted tracefs at " + TRACEFS);
        }
        return done;
    }

    private static void mount(String source, Path target, String type) {
        if (LibC.INSTANCE.mount(source, target.toString(), type, 0, null) != 0) {
            int errno = Native.getLastError();
            throw new ProbeException("cannot mount " + type + " at " + target + ": " + LibC.INSTANCE.strerror(errno),
                    "mount it by hand (mount -t " + type + " " + source + " " + target + ") or give the daemon CAP_SYS_ADMIN");
        }
    }

    /**
     * CLOCK_TAI - CLOCK_REALTIME in ns (the kernel's TAI offset, 0 until an NTP daemon sets it,
     * often 37 s), read with adjtimex: struct timex's int tai sits at byte 160 on 64-bit Linux.
     */
    static long taiMinusUtcNanos() {
        Memory timex = new Memory(256);
        timex.clear();
        if (LibC.INSTANCE.adjtimex(timex) < 0) return 0;
        return timex.getInt(160) * 1_000_000_000L;
    }

    /** The v2 cgroup directory of a process, from /proc/PID/cgroup's "0::/path" line. */
    static Path cgroupOfPid(int pid) {
        Path f = Path.of("/proc", Integer.toString(pid), "cgroup");
        try {
            for (String line : Files.readAllLines(f)) {
                if (line.startsWith("0::")) return ProbeConfig.CGROUP2_ROOT.resolve(line.substring(3).replaceFirst("^/", ""));
            }
        } catch (IOException e) {
            throw new ProbeException("process " + pid + " does not exist (cannot read " + f + ")", "check the pid in targets.pids; it may have exited");
        }
        throw new ProbeException("process " + pid + " has no cgroup v2 membership in " + f, "the probe needs the cgroup v2 hierarchy (mounted at " + ProbeConfig.CGROUP2_ROOT + ")");
    }
}
