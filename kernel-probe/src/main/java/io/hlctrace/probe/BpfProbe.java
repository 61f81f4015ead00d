package io.hlctrace.probe;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import io.hlctrace.hlc.ExecutorClockState;

/**
 * The probe's BPF side for one executor: loads the two objects of bpf/ with their maps pinned in
 * the executor's pin directory (a pinned clock from an earlier run is reused, so the clock never
 * goes back), maps the clock, attaches sock_ops to cgroups and the message tracepoints, and
 * detaches everything on {@link #close()}.
 */
public final class BpfProbe implements AutoCloseable {
    /** Object files inside the jar, in load order (the first creates the shared pinned maps). */
    static final String[] OBJECTS = {"tcp_option.bpf.o", "message_events.bpf.o"};
    static final String RESOURCE_DIR = "/io/hlctrace/probe/bpf/";
    /** Every pinned map; all but the clock are recreated on each start. */
    static final List<String> PINNED_MAPS = List.of("clock", "stats", "conn_state", "control", "events");
    private static final int PAGE = 4096;
    private static final Libbpf BPF = Libbpf.INSTANCE;

    private final Path pinDir;
    private final Path workDir;
    private final List<Pointer> objects = new ArrayList<>();
    private final Map<Path, Pointer> cgroupLinks = new LinkedHashMap<>();
    private final List<Pointer> tracepointLinks = new ArrayList<>();
    private Pointer sockops, sockopsOptionOnly;
    private final Map<Path, Pointer> optionOnlyLinks = new LinkedHashMap<>();
    private Pointer clockMapping;
    private ExecutorClockState clockState;
    private int clockFd = -1, statsFd = -1, controlFd = -1, eventsFd = -1;

    /**
     * Why the BPF objects cannot be used here, or null when they can: the bpf/ build writes
     * UNAVAILABLE when clang, bpftool or the kernel's BTF was missing.
     */
    public static String unavailableReason() {
        try (InputStream in = BpfProbe.class.getResourceAsStream(RESOURCE_DIR + "UNAVAILABLE")) {
            if (in != null) return "the BPF programs were not built: " + new String(in.readAllBytes()).strip();
        } catch (IOException e) {
            return "cannot read the build's UNAVAILABLE note: " + e.getMessage();
        }
        for (String o : OBJECTS) {
            if (BpfProbe.class.getResource(RESOURCE_DIR + o) == null) return "the BPF object " + o + " is not in the jar (build bpf/ first: mvn -pl bpf install)";
        }
        return null;
    }

    /** Why the probe cannot run on this machine (root, BPF objects, BTF), or null. */
    public static String cannotRunReason() {
        if (!Kernel.isRoot()) return "not root: loading BPF programs needs root";
        String r = unavailableReason();
        if (r != null) return r;
        if (!Files.isReadable(Kernel.BTF)) return "no kernel BTF at " + Kernel.BTF;
        return null;
    }

    public BpfProbe(Path pinDir, int ringBufferBytes) {
        Kernel.requireRoot();
        String why = unavailableReason();
        if (why != null) throw new ProbeException(why, "install clang, llvm, libbpf-dev and bpftool (scripts/setup.sh as root), then rebuild (mvn -pl bpf,kernel-probe install)");
        Kernel.requireBtf();
        Kernel.mountFileSystems();
        this.pinDir = pinDir;
        try {
            Files.createDirectories(pinDir);
            this.workDir = Files.createTempDirectory("hlctrace-probe-bpf");
        } catch (IOException e) {
            throw new ProbeException("cannot create " + pinDir + ": " + e.getMessage(), "is bpffs mounted at " + Kernel.BPFFS + " and writable by root?");
        }
        try {
            removeStalePins();
            for (String name : OBJECTS) objects.add(open(name, ringBufferBytes));
            Pointer tcp = objects.get(0);
            Pointer msg = objects.get(1);
            sockops = program(tcp, "hlc_sockops");
            sockopsOptionOnly = program(tcp, "hlc_sockops_option_only");
            clockFd = mapFd(tcp, "clock");
            statsFd = mapFd(tcp, "stats");
            controlFd = mapFd(tcp, "control");
            eventsFd = mapFd(msg, "events");
            mapClock();
            for (String p : new String[] {"hlc_on_send", "hlc_on_recv"}) {
                Pointer link = BPF.bpf_program__attach(program(msg, p));
                if (link == null) throw refusal("attach the tracepoint program " + p, Native.getLastError());
                tracepointLinks.add(link);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Drops pins of an earlier run except the clock, so changed map sizes never refuse to load. */
    private void removeStalePins() {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(pinDir)) {
            for (Path p : ds) {
                if (!p.getFileName().toString().equals("clock")) Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new ProbeException("cannot clean the pin directory " + pinDir + ": " + e.getMessage(), "remove it by hand (rm -r " + pinDir + ") while no daemon of this executor runs");
        }
    }

    private Pointer open(String name, int ringBufferBytes) {
        Path file = workDir.resolve(name);
        try (InputStream in = BpfProbe.class.getResourceAsStream(RESOURCE_DIR + name)) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new ProbeException("cannot extract " + name + " to " + workDir + ": " + e.getMessage(), "check free space in " + workDir.getParent());
        }
        Memory opts = new Memory(32);
        opts.clear();
        Memory pinRoot = new Memory(pinDir.toString().length() * 4L + 1);
        pinRoot.setString(0, pinDir.toString());
        opts.setLong(0, 32);           // sz: the fields up to pin_root_path
        opts.setPointer(24, pinRoot);  // pin_root_path
        LibbpfLog.clear();
        Pointer obj = BPF.bpf_object__open_file(file.toString(), opts);
        if (obj == null) throw refusal("open " + name, Native.getLastError());
        Pointer events = BPF.bpf_object__find_map_by_name(obj, "events");
        if (events != null) BPF.bpf_map__set_max_entries(events, ringBufferBytes);
        int rc = BPF.bpf_object__load(obj);
        if (rc != 0) {
            ProbeException e = refusal("load " + name + " into the kernel", -rc);
            BPF.bpf_object__close(obj);
            throw e;
        }
        return obj;
    }

    private static Pointer program(Pointer obj, String name) {
        Pointer p = BPF.bpf_object__find_program_by_name(obj, name);
        if (p == null) throw new ProbeException("the BPF object has no program " + name, "rebuild bpf/ and kernel-probe/ together");
        return p;
    }

    private static int mapFd(Pointer obj, String name) {
        Pointer m = BPF.bpf_object__find_map_by_name(obj, name);
        if (m == null) throw new ProbeException("the BPF object has no map " + name, "rebuild bpf/ and kernel-probe/ together");
        return BPF.bpf_map__fd(m);
    }

    private void mapClock() {
        Pointer p = LibC.INSTANCE.mmap(null, PAGE, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, clockFd, 0);
        if (p == null || Pointer.nativeValue(p) == -1L) {
            throw refusal("mmap the clock map", Native.getLastError());
        }
        clockMapping = p;
        ByteBuffer record = p.getByteBuffer(0, ExecutorClockState.SIZE);
        clockState = new ExecutorClockState(record, 0);
    }

    /** A libbpf or kernel refusal, with libbpf's and the kernel's (verifier's) own words. */
    static ProbeException refusal(String what, int errno) {
        String log = LibbpfLog.take();
        String reason = errno == 0 ? "" : ": " + LibC.INSTANCE.strerror(Math.abs(errno)) + " (errno " + Math.abs(errno) + ")";
        String remedy = switch (Math.abs(errno)) {
            case 1 -> "the kernel refused (EPERM): run as root; in lockdown or with unprivileged BPF off, only root with CAP_BPF+CAP_SYS_ADMIN may load programs";
            case 9 -> "EBADF on a cgroup usually means a cgroup v1 directory: use a directory of the v2 hierarchy under " + ProbeConfig.CGROUP2_ROOT;
            case 95, 524 -> "this kernel lacks a feature the probe needs (see docs/kernel-probe.md, Requirements)";
            default -> "see the kernel's message above; docs/kernel-probe.md lists the requirements";
        };
        return new ProbeException("could not " + what + reason + (log.isEmpty() ? "" : "\n--- libbpf/kernel said ---\n" + log), remedy);
    }

    /**
     * Attaches the sock_ops program to a cgroup v2 directory (covering its descendants): the option
     * on every segment, and an event per message of its processes.
     */
    public synchronized void attachCgroup(Path dir) {
        attach(dir, sockops, cgroupLinks, optionOnlyLinks, "targets.option_only_cgroups");
    }

    /**
     * Attaches the option-only sock_ops program: the option is written and merged into the
     * executor clock, but the probe logs no events for these processes (instrumented JVMs log
     * their own; events from both would be duplicates).
     */
    public synchronized void attachCgroupOptionOnly(Path dir) {
        attach(dir, sockopsOptionOnly, optionOnlyLinks, cgroupLinks, "targets.cgroups");
    }

    private void attach(Path dir, Pointer program, Map<Path, Pointer> links, Map<Path, Pointer> otherKind, String otherKey) {
        if (links.containsKey(dir)) return;
        if (otherKind.containsKey(dir)) {
            throw new ProbeException("cgroup " + dir + " is already a target of the other kind (" + otherKey + ")",
                    "a cgroup either has its messages logged by the probe or only carries the option; list it once");
        }
        if (!Files.isDirectory(dir)) {
            throw new ProbeException("cgroup " + dir + " does not exist", "create it (mkdir) or fix the path; cgroup v2 directories live under " + ProbeConfig.CGROUP2_ROOT);
        }
        String fs = Kernel.fsTypeAt(dir);
        if (!"cgroup2".equals(fs)) {
            throw new ProbeException(dir + " is not a cgroup v2 directory (it is on " + fs + "): sock_ops programs attach only to cgroup v2",
                    "use the same cgroup under the v2 hierarchy, " + ProbeConfig.CGROUP2_ROOT + " on this hybrid layout");
        }
        int fd = LibC.INSTANCE.open(dir.toString(), LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        if (fd < 0) throw new ProbeException("cannot open cgroup " + dir + ": " + LibC.INSTANCE.strerror(Native.getLastError()), "check the path and permissions");
        try {
            LibbpfLog.clear();
            Pointer link = BPF.bpf_program__attach_cgroup(program, fd);
            if (link == null) throw refusal("attach sock_ops to cgroup " + dir, Native.getLastError());
            links.put(dir, link);
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    /** Detaches from a cgroup (a container went away); a no-op when not attached. */
    public synchronized void detachCgroup(Path dir) {
        Pointer link = cgroupLinks.remove(dir);
        if (link == null) link = optionOnlyLinks.remove(dir);
        if (link != null) BPF.bpf_link__destroy(link);
    }

    public synchronized List<Path> attachedCgroups() { return List.copyOf(cgroupLinks.keySet()); }

    public synchronized List<Path> optionOnlyCgroups() { return List.copyOf(optionOnlyLinks.keySet()); }

    /**
     * fail_mode: with {@code refuse} true, while the clock record's unhealthy flag is set the
     * kernel writes no option, merges no option and stamps no event (each counted in the stats).
     */
    public void setFailRefuse(boolean refuse) {
        setControl(CONTROL_FAIL_REFUSE, refuse ? 1 : 0);
    }

    public ExecutorClockState clockState() { return clockState; }

    public Path pinDir() { return pinDir; }

    public Path clockPin() { return pinDir.resolve("clock"); }

    public int clockFd() { return clockFd; }

    public int eventsFd() { return eventsFd; }

    /** One counter of the stats map (ProbeStats indexes). */
    public long stat(int index) {
        // a per-CPU array: one u64 per possible CPU, summed
        int cpus = possibleCpus();
        try (Memory key = new Memory(4); Memory value = new Memory(8L * cpus)) {
            key.setInt(0, index);
            value.clear();
            if (BPF.bpf_map_lookup_elem(statsFd, key, value) != 0) return 0;
            long sum = 0;
            for (int i = 0; i < cpus; i++) sum += value.getLong(8L * i);
            return sum;
        }
    }

    private static int possibleCpus;

    private static synchronized int possibleCpus() {
        if (possibleCpus <= 0) {
            int n = BPF.libbpf_num_possible_cpus();
            if (n <= 0) throw new ProbeException("libbpf cannot tell the number of possible CPUs (" + n + ")", "check /sys/devices/system/cpu/possible");
            possibleCpus = n;
        }
        return possibleCpus;
    }

    /** Test knob: the next {@code count} options written carry {@code hlc} instead of the clock. */
    public void forgeOptions(long hlc, long count) {
        setControl(CONTROL_FORGE_HLC, hlc);
        setControl(CONTROL_FORGE_COUNT, count);
    }

    /** Indexes of the control map, mirroring the enum in bpf/src/main/bpf/hlc_clock.h. */
    static final int CONTROL_FORGE_HLC = 0, CONTROL_FORGE_COUNT = 1, CONTROL_FAIL_REFUSE = 2;

    private void setControl(int index, long v) {
        try (Memory key = new Memory(4); Memory value = new Memory(8)) {
            key.setInt(0, index);
            value.setLong(0, v);
            if (BPF.bpf_map_update_elem(controlFd, key, value, 0) != 0) throw refusal("update the control map", Native.getLastError());
        }
    }

    /** Detaches every program and closes the objects; the clock stays pinned for the next run and the agents. */
    /**
     * Detaches every program but keeps the maps: the daemon does this before its last drain, so
     * that no event can be stamped after the drain and go unwritten.
     */
    public synchronized void detachPrograms() {
        for (Pointer l : cgroupLinks.values()) BPF.bpf_link__destroy(l);
        cgroupLinks.clear();
        for (Pointer l : optionOnlyLinks.values()) BPF.bpf_link__destroy(l);
        optionOnlyLinks.clear();
        for (Pointer l : tracepointLinks) BPF.bpf_link__destroy(l);
        tracepointLinks.clear();
    }

    @Override
    public synchronized void close() {
        detachPrograms();
        if (clockMapping != null) {
            LibC.INSTANCE.munmap(clockMapping, PAGE);
            clockMapping = null;
        }
        for (Pointer o : objects) BPF.bpf_object__close(o);
        objects.clear();
        if (pinDir != null) {
            for (String m : PINNED_MAPS) {
                if (!m.equals("clock")) {
                    try {
                        Files.deleteIfExists(pinDir.resolve(m));
                    } catch (IOException ignored) {
                        // the next start removes stale pins anyway
                    }
                }
            }
        }
        if (workDir != null) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(workDir)) {
                for (Path p : ds) Files.deleteIfExists(p);
                Files.deleteIfExists(workDir);
            } catch (IOException ignored) {
                // a temp dir left behind is harmless
            }
        }
    }
}
