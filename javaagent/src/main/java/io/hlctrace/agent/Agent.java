package io.hlctrace.agent;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.PhysicalClock;
import io.hlctrace.hlc.SkewedPhysicalClock;
import io.hlctrace.hlc.SystemPhysicalClock;

/** Starts the agent: config, clock, event log, port registry, then the hooks. */
public final class Agent {
    public static final String VERSION = "0.1.0";

    /** Thrown when the config says failHard and the agent cannot run as configured. */
    public static final class FailHardError extends Error {
        FailHardError(String message) { super(message); }
    }

    private static final Set<String> warnedApis = ConcurrentHashMap.newKeySet();
    private static final Set<String> warnedRefusals = ConcurrentHashMap.newKeySet();
    private static volatile boolean started;

    private Agent() {}

    public static synchronized void start(String args, Instrumentation inst, boolean attached, String jar) {
        if (started) {
            warn("already running in this JVM; the second -javaagent/attach is ignored");
            return;
        }
        // config and runtime first, then the hooks: done in parallel they were slower (both threads
        // load classes from the agent jar on the bootstrap path, and contend)
        Setup setup = new Setup(args, attached);
        setup.run();
        long t0 = System.nanoTime();
        Throwable hookFailure = null;
        if (setup.configError == null && setup.failure == null) {
            try {
                preload(jar);
                install(inst, classCacheDir(setup.config, Path.of(jar)));
            } catch (Exception | LinkageError e) {
                hookFailure = e;
            }
        }
        long t1 = System.nanoTime();
        if (setup.configError != null) {
            String msg = "hlctrace agent: broken config: " + setup.configError.getMessage();
            if (failHardRequested(args)) throw new FailHardError(msg + "\nhlctrace agent: failHard is set: stopping the JVM.");
            System.err.println(msg + "\nhlctrace agent: the application runs UNINSTRUMENTED. Fix the config (docs/javaagent.md, \"Configuration\").");
            return;
        }
        Throwable failure = hookFailure != null ? hookFailure : setup.failure;
        if (failure != null || setup.runtime == null) {
            String msg = "hlctrace agent: could not start: " + failure;
            if (setup.config != null && setup.config.failHard) throw new FailHardError(msg + "\nhlctrace agent: failHard is set: stopping the JVM.");
            System.err.println(msg + "\nhlctrace agent: the application runs UNINSTRUMENTED.");
            if (failure != null) failure.printStackTrace();
            return;
        }
        if (Boolean.getBoolean("hlctrace.agent.debug")) {
            System.err.printf("hlctrace agent: start-up: runtime %d ms, hooks %d ms%n", setup.millis, (t1 - t0) / 1_000_000);
        }
        SocketHooks.runtime = setup.runtime;
        started = true;
    }

    /** Reads the config and makes the runtime (clock, event log, port registry), keeping what failed. */
    private static final class Setup implements Runnable {
        private final String args;
        private final boolean attached;
        AgentConfig config;
        AgentConfig.ConfigException configError;
        AgentRuntime runtime;
        Throwable failure;
        long millis;

        Setup(String args, boolean attached) {
            this.args = args;
            this.attached = attached;
        }

        @Override
        public void run() {
            long t0 = System.nanoTime();
            try {
                config = loadConfig(args);
                runtime = createRuntime(config, attached);
            } catch (AgentConfig.ConfigException e) {
                configError = e;
            } catch (Exception | LinkageError e) {
                failure = e;
            }
            millis = (System.nanoTime() - t0) / 1_000_000;
        }
    }

    /** A config file that fails to parse cannot say failHard reliably; the text is searched for it. */
    private static boolean failHardRequested(String args) {
        try {
            return args != null && !args.isBlank()
                    && java.nio.file.Files.readString(Path.of(args.trim())).matches("(?s).*(^|\\n)\\s*failHard\\s*:\\s*(true|yes|on)\\b.*");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static AgentConfig loadConfig(String args) throws AgentConfig.ConfigException {
        String path = args == null || args.isBlank() ? System.getenv("HLCTRACE_AGENT_CONFIG") : args.trim();
        if (path == null || path.isBlank()) return AgentConfig.defaults();
        return AgentConfig.load(Path.of(path));
    }

    static AgentRuntime createRuntime(AgentConfig config, boolean attached) throws IOException {
        long pid = pid();
        String name = config.process != null ? config.process : processName();
        String proc = name + ":" + pid;

        ExecutorClockState shared = null;
        String clockDescription;
        Path registryDir = config.registryDir;
        String clock = config.clock;
        PhysicalClock physical;
        if ("local".equals(clock)) {
            physical = new CalibratedSystemClock(SystemPhysicalClock.INSTANCE);
            clockDescription = "process-local clock (config clock: local)";
        } else if (clock != null && (clock.startsWith("bpf:") || clock.startsWith("unix:"))) {
            // the kernel probe's clock: an error here is not papered over with a local clock, since
            // the user asked for stamps consistent with the probe's
            boolean pinned = clock.startsWith("bpf:");
            Path where = Path.of(clock.substring(pinned ? 4 : 5));
            java.nio.ByteBuffer record = pinned ? BpfClockMap.mapPinned(where) : BpfClockMap.mapFromSocket(where);
            shared = new ExecutorClockState(record, 0);
            physical = shared.physicalClock(new CalibratedSystemClock(SystemPhysicalClock.INSTANCE));
            clockDescription = pinned ? "kernel probe clock map " + where + " (pinned BPF map, shared with the probe and every agent of node " + config.node + ")"
                    : "kernel probe clock map received over " + where + " (shared with the probe and every agent of node " + config.node + ")";
        } else {
            Path file = clock == null ? config.defaultClockPath() : Path.of(clock);
            ExecutorClockFile f;
            try {
                f = ExecutorClockFile.openOrCreate(file);
            } catch (IOException e) {
                if (clock != null || config.failHard) throw e;
                f = null;
                warn("cannot open the executor clock " + file + " (" + e.getMessage() + "); using a process-local clock");
            }
            if (f != null) {
                shared = f.state();
                physical = shared.physicalClock(new CalibratedSystemClock(SystemPhysicalClock.INSTANCE));
                clockDescription = "executor clock " + file + " (shared with every stamper of node " + config.node + ")";
                if (registryDir == null) registryDir = file.toAbsolutePath().getParent().resolve("ports");
            } else {
                physical = new CalibratedSystemClock(SystemPhysicalClock.INSTANCE);
                clockDescription = "process-local clock (the executor clock could not be opened)";
            }
        }
        if (config.skewOffsetNanos != 0 || config.skewDriftPpm != 0) {
            physical = SkewedPhysicalClock.withDrift(physical, config.skewOffsetNanos, config.skewDriftPpm);
            clockDescription += ", simulated skew " + java.time.Duration.ofNanos(config.skewOffsetNanos) + " drift " + config.skewDriftPpm + " ppm";
        }
        io.hlctrace.hlc.ClockCell cell = shared != null ? shared.hlcCell() : new io.hlctrace.hlc.AtomicClockCell();
        HybridLogicalClock hlc = new HybridLogicalClock(cell, physical, config.maxOffset);
        if (registryDir == null) registryDir = config.defaultClockPath().getParent().resolve("ports");
        PortRegistry registry = null;
        if (config.registry) {
            try {
                registry = new PortRegistry(registryDir);
            } catch (IOException e) {
                warn("cannot create the port registry " + registryDir + " (" + e + "); peers are known from the config only");
            }
        }

        Stamper stamper = new Stamper(cell, physical, config.maxOffset, shared, config.failMode);
        EventLog log = new EventLog(config.logDir, config.node, proc, stamper, config.queueCapacity);
        stamper.attach(log);
        AgentRuntime rt = new AgentRuntime(config, stamper, log, registry);
        log.start();
        String info = "hlctrace agent " + VERSION + (attached ? " (attached to a running JVM: connections open before stay plain)" : "")
                + ": node " + config.node + ", process " + proc + ", " + clockDescription
                + ", max offset " + (hlc.guardEnabled() ? config.maxOffset.toMillis() + " ms" : "off (guard disabled)")
                + ", failMode " + config.failMode.yamlName + (shared == null ? " (no effect: a process-local clock has no health flag)" : "")
                + ", config " + config.source + ", log " + log.file().toAbsolutePath()
                + (registry != null ? ", port registry " + registry.dir() : ", port registry off");
        System.err.println(info);
        if (Stamper.PARTS != Stamper.PARTS_ALL) {
            warn("-Dhlctrace.benchmark.parts=" + System.getProperty("hlctrace.benchmark.parts") + " is set: a benchmark switch that turns off "
                    + (Stamper.PARTS == Stamper.PARTS_FRAMING ? "the clock and the event log" : "the event log")
                    + "; messages are not traced. Remove it for normal operation.");
        }
        stamper.lifecycle(EventLog.START, info);
        PortRegistry reg = registry;
        Runtime.getRuntime().addShutdownHook(new Thread("hlctrace-shutdown") {
            @Override
            public void run() {
                if (reg != null) reg.unregisterAll();
                long refused = stamper.refusedTotal();
                long dropped = log.droppedTotal();
                stamper.reportWithheld(true); // not lost even when the JVM ends while fail-stopped
                stamper.lifecycleWhenRoom(EventLog.STOP, "refused " + refused + " remote timestamps, dropped " + dropped + " events, not stamped while fail-stopped "
                        + stamper.withheldTotal() + " events", 2000);
                log.close();
            }
        });
        return rt;
    }

    /** This process's id: from /proc on Linux (ProcessHandle costs tens of ms at start-up), else ProcessHandle. */
    static long pid() {
        try {
            return Long.parseLong(java.nio.file.Files.readSymbolicLink(Path.of("/proc/self")).toString());
        } catch (IOException | RuntimeException e) {
            return ProcessHandle.current().pid();
        }
    }

    private static String processName() {
        String cmd = System.getProperty("sun.java.command", "");
        String first = cmd.isBlank() ? "java" : cmd.split(" ")[0];
        if (first.endsWith(".jar")) {
            first = Path.of(first).getFileName().toString();
            return first.substring(0, first.length() - 4);
        }
        int dot = first.lastIndexOf('.');
        return dot >= 0 ? first.substring(dot + 1) : first;
    }

    /**
     * Loads every class of the agent (not the weaver, the shaded ASM and SnakeYAML: only a class
     * cache miss needs them) and the JDK classes the hooks use, so no class loading happens inside
     * a hook: that would pin a virtual thread, and could recurse into a hooked class being loaded.
     */
    private static void preload(String jar) throws IOException, ClassNotFoundException {
        try (java.util.jar.JarFile jf = new java.util.jar.JarFile(jar)) {
            for (java.util.jar.JarEntry e : java.util.Collections.list(jf.entries())) {
                String n = e.getName();
                if (!n.endsWith(".class") || n.contains("/shaded/asm/") || n.contains("/shaded/snakeyaml/") || n.startsWith("io/hlctrace/agent/HookWeaver")) continue;
                if (!n.startsWith("io/hlctrace/agent/")) continue;
                Class.forName(n.substring(0, n.length() - 6).replace('/', '.'), false, null);
            }
        }
        for (Class<?> c : new Class<?>[] {java.io.EOFException.class, java.lang.ref.ReferenceQueue.class, java.nio.channels.SocketChannel.class,
                java.util.concurrent.ConcurrentLinkedQueue.class, java.util.Optional.class, ProcessHandle.class}) {
            Class.forName(c.getName(), true, c.getClassLoader());
        }
        for (Class<?> c : new Class<?>[] {SocketHooks.class, NioHooks.class, UdpHooks.class, TcpConnection.class, Frame.class,
                Stamper.class, HybridLogicalClock.class, HlcTimestamp.class}) {
            Class.forName(c.getName(), true, null);
        }
        NioHooks.bypass(); // initialises this thread's flag, and the ThreadLocal machinery, outside any hook
        byte[] probe = new byte[Frame.HEADER_SIZE];
        Frame.writeHeader(probe, 0, 1, 1, 1);
        if (Frame.validate(probe, 0) != null) throw new IllegalStateException("frame codec self-check failed");
    }

    /**
     * The class cache of this agent jar: {@code classCache} (default {@code ~/.cache/hlctrace-agent})
     * / version-size-mtime of the jar, so a rebuilt agent never takes an older one's classes. The
     * cached classes go into java.base, so the directory must be the user's own and writable by
     * nobody else; otherwise there is no cache (the hooks are then built each time).
     */
    static Path classCacheDir(AgentConfig config, Path jar) {
        if ("off".equals(config.classCache)) return null;
        try {
            Path base = config.classCache != null ? Path.of(config.classCache) : Path.of(System.getProperty("user.home"), ".cache", "hlctrace-agent");
            java.nio.file.attribute.BasicFileAttributes a = java.nio.file.Files.readAttributes(jar, java.nio.file.attribute.BasicFileAttributes.class);
            Path dir = base.resolve(VERSION + "-" + a.size() + "-" + a.lastModifiedTime().toMillis());
            java.util.Set<java.nio.file.attribute.PosixFilePermission> ownerOnly = java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");
            if (!java.nio.file.Files.isDirectory(dir)) {
                java.nio.file.Files.createDirectories(base);
                java.nio.file.Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(ownerOnly));
                pruneClassCache(base, dir);
            }
            for (Path d : new Path[] {base, dir}) {
                java.nio.file.attribute.PosixFileAttributes p = java.nio.file.Files.readAttributes(d, java.nio.file.attribute.PosixFileAttributes.class);
                boolean othersWrite = p.permissions().contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
                        || p.permissions().contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE);
                if (othersWrite || !p.owner().getName().equals(System.getProperty("user.name"))) {
                    warn("class cache " + d + " is not owned by " + System.getProperty("user.name") + " alone; not used (config classCache)");
                    return null;
                }
            }
            return dir;
        } catch (IOException | RuntimeException e) {
            warn("no class cache (" + e + "); the hooks are built at every start (config classCache)");
            return null;
        }
    }

    /** A new agent jar's first start removes the caches of jars not started for a week. */
    private static void pruneClassCache(Path base, Path keep) {
        long weekAgo = System.currentTimeMillis() - 7L * 24 * 3600 * 1000;
        try (java.nio.file.DirectoryStream<Path> jars = java.nio.file.Files.newDirectoryStream(base)) {
            for (Path d : jars) {
                if (d.equals(keep) || !java.nio.file.Files.isDirectory(d) || java.nio.file.Files.getLastModifiedTime(d).toMillis() > weekAgo) continue;
                try (java.nio.file.DirectoryStream<Path> files = java.nio.file.Files.newDirectoryStream(d)) {
                    for (Path f : files) java.nio.file.Files.deleteIfExists(f);
                }
                java.nio.file.Files.deleteIfExists(d);
            }
        } catch (IOException | RuntimeException e) {
            // only tidying: a cache left behind costs disk space, nothing else
        }
    }

    private static void install(Instrumentation inst, Path cacheDir) throws IOException {
        long tInstall = System.nanoTime();
        // Load the hooked JDK types now: they are retransformed, never transformed while being
        // defined (resolving a hook's class then could load the type again: ClassCircularityError)
        for (String name : HookTable.JDK_TYPES) {
            try {
                Class.forName(name, false, null);
            } catch (ClassNotFoundException e) {
                warn("JDK type " + name + " not found (" + e + "); its hook is skipped");
            }
        }
        // the socket adaptor's raw reads and writes are package-private: open sun.nio.ch to the agent
        try {
            Class<?> impl = Class.forName("sun.nio.ch.SocketChannelImpl", false, null);
            inst.redefineModule(Object.class.getModule(), Set.of(), java.util.Map.of(),
                    java.util.Map.of("sun.nio.ch", Set.of(Agent.class.getModule())), Set.of(), java.util.Map.of());
            NioHooks.initAdaptorHandles(impl);
            UdpHooks.init(Class.forName("sun.nio.ch.NativeSocketAddress", false, null));
        } catch (ReflectiveOperationException | RuntimeException e) {
            warn("the socket adaptor streams of SocketChannel.socket() cannot be traced (" + e + ")");
        }
        HookTransformer hooks = new HookTransformer(cacheDir);
        // only the hooked types pass through the transformer: those loaded already are retransformed
        // (and nothing else is), the others (asynchronous channels, Netty) when they are first loaded
        java.util.List<Class<?>> loaded = new java.util.ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (hooks.hooks(c.getName())) loaded.add(c);
        }
        inst.addTransformer(hooks, true);
        try {
            try {
                inst.retransformClasses(loaded.toArray(new Class<?>[0]));
            } catch (LinkageError | RuntimeException e) {
                if (hooks.cacheHits == 0) throw e;
                // a damaged class cache must not keep the agent out for good: build the hooks anew
                warn("the JVM refused classes from the class cache " + cacheDir + " (" + e + "); building the hooks without it");
                hooks.disableCache();
                try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(cacheDir)) {
                    for (Path f : (Iterable<Path>) files::iterator) java.nio.file.Files.deleteIfExists(f);
                } catch (IOException | RuntimeException ignored) {
                    // the next start finds the damaged files again and comes here again
                }
                inst.retransformClasses(loaded.toArray(new Class<?>[0]));
            }
        } catch (java.lang.instrument.UnmodifiableClassException e) {
            warn("could not retransform the hooked JDK types (" + e + "); their messages are not traced");
        }
        if (Boolean.getBoolean("hlctrace.agent.debug")) {
            System.err.printf("hlctrace agent: hooks: %d types retransformed in %d ms (class cache %s: %d hits, %d misses; failed: %s)%n",
                    loaded.size(), (System.nanoTime() - tInstall) / 1_000_000, cacheDir, hooks.cacheHits, hooks.cacheMisses, hooks.failures());
        }
    }

    static void warn(String message) {
        System.err.println("hlctrace agent: WARNING: " + message);
    }

    static void warnUncovered(String api) {
        if (warnedApis.add(api)) {
            warn(api + " is used in this JVM; the agent does not carry the clock over it (docs/javaagent.md, \"Not covered\"):"
                    + " its messages are neither framed nor logged, and its bytes are left untouched");
        }
    }

    static void warnRefused(TcpConnection c, HybridLogicalClock.Refused r) {
        // one line per connection, not per message: a forged peer must not flood stderr
        String where = c == null ? "a UDP datagram" : "connection " + c.local + " <- " + c.remote;
        if (warnedRefusals.size() < 100 && warnedRefusals.add(where)) {
            warn(where + ": " + r.describe() + " (logged with \"refused\":true; the message was delivered)");
        }
    }

    static void internalError(String where, Throwable t) {
        warn("internal error in the " + where + " hook: " + t);
    }
}
