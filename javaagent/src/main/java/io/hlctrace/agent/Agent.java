package io.hlctrace.agent;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.none;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;
import static net.bytebuddy.matcher.ElementMatchers.takesNoArguments;

import java.io.File;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.hlctrace.agent.advice.AdaptorReadAdvice;
import io.hlctrace.agent.advice.AdaptorWriteAdvice;
import io.hlctrace.agent.advice.ChannelGatherWriteAdvice;
import io.hlctrace.agent.advice.ChannelLifecycleAdvice;
import io.hlctrace.agent.advice.ChannelReadAdvice;
import io.hlctrace.agent.advice.ChannelScatterReadAdvice;
import io.hlctrace.agent.advice.ChannelWriteAdvice;
import io.hlctrace.agent.advice.DatagramAdvice;
import io.hlctrace.agent.advice.FileChannelTransferAdvice;
import io.hlctrace.agent.advice.ServerSocketAcceptAdvice;
import io.hlctrace.agent.advice.ServerSocketBindAdvice;
import io.hlctrace.agent.advice.ServerSocketCloseAdvice;
import io.hlctrace.agent.advice.SocketCloseAdvice;
import io.hlctrace.agent.advice.SocketConnectAdvice;
import io.hlctrace.agent.advice.SocketInputAvailableAdvice;
import io.hlctrace.agent.advice.SocketInputReadAdvice;
import io.hlctrace.agent.advice.SocketOutputWriteAdvice;
import io.hlctrace.agent.advice.UncoveredApiAdvice;
import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.PhysicalClock;
import io.hlctrace.hlc.SkewedPhysicalClock;
import io.hlctrace.hlc.SystemPhysicalClock;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.utility.JavaModule;

/** Starts the agent: config, clock, event log, port registry, then the Byte Buddy hooks. */
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
        AgentConfig config;
        try {
            config = loadConfig(args);
        } catch (AgentConfig.ConfigException e) {
            String msg = "hlctrace agent: broken config: " + e.getMessage();
            if (failHardRequested(args)) throw new FailHardError(msg + "\nhlctrace agent: failHard is set: stopping the JVM.");
            System.err.println(msg + "\nhlctrace agent: the application runs UNINSTRUMENTED. Fix the config (docs/javaagent.md, \"Configuration\").");
            return;
        }
        try {
            long t0 = System.nanoTime();
            AgentRuntime rt = createRuntime(config, attached);
            long t1 = System.nanoTime();
            preload(jar);
            install(inst, Path.of(jar).toFile());
            long t2 = System.nanoTime();
            if (Boolean.getBoolean("hlctrace.agent.debug")) {
                System.err.printf("hlctrace agent: start-up: runtime %d ms, hooks %d ms%n", (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
            }
            SocketHooks.runtime = rt;
            started = true;
        } catch (Exception | LinkageError e) {
            String msg = "hlctrace agent: could not start: " + e;
            if (config.failHard) throw new FailHardError(msg + "\nhlctrace agent: failHard is set: stopping the JVM.");
            System.err.println(msg + "\nhlctrace agent: the application runs UNINSTRUMENTED.");
            e.printStackTrace();
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
        long pid = ProcessHandle.current().pid();
        String name = config.process != null ? config.process : processName();
        String proc = name + ":" + pid;

        ExecutorClockState shared = null;
        String clockDescription;
        Path registryDir = config.registryDir;
        String clock = config.clock;
        PhysicalClock physical;
        if ("local".equals(clock)) {
            physical = SystemPhysicalClock.INSTANCE;
            clockDescription = "process-local clock (config clock: local)";
        } else if (clock != null && (clock.startsWith("bpf:") || clock.startsWith("unix:"))) {
            // the kernel probe's clock: an error here is not papered over with a local clock, since
            // the user asked for stamps consistent with the probe's
            boolean pinned = clock.startsWith("bpf:");
            Path where = Path.of(clock.substring(pinned ? 4 : 5));
            java.nio.ByteBuffer record = pinned ? BpfClockMap.mapPinned(where) : BpfClockMap.mapFromSocket(where);
            shared = new ExecutorClockState(record, 0);
            physical = shared.physicalClock(SystemPhysicalClock.INSTANCE);
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
                physical = shared.physicalClock(SystemPhysicalClock.INSTANCE);
                clockDescription = "executor clock " + file + " (shared with every stamper of node " + config.node + ")";
                if (registryDir == null) registryDir = file.toAbsolutePath().getParent().resolve("ports");
            } else {
                physical = SystemPhysicalClock.INSTANCE;
                clockDescription = "process-local clock (the executor clock could not be opened)";
            }
        }
        if (config.skewOffsetNanos != 0 || config.skewDriftPpm != 0) {
            physical = SkewedPhysicalClock.withDrift(physical, config.skewOffsetNanos, config.skewDriftPpm);
            clockDescription += ", simulated skew " + java.time.Duration.ofNanos(config.skewOffsetNanos) + " drift " + config.skewDriftPpm + " ppm";
        }
        HybridLogicalClock hlc = shared != null
                ? new HybridLogicalClock(shared.hlcCell(), physical, config.maxOffset)
                : new HybridLogicalClock(new io.hlctrace.hlc.AtomicClockCell(), physical, config.maxOffset);
        if (registryDir == null) registryDir = config.defaultClockPath().getParent().resolve("ports");
        PortRegistry registry = null;
        if (config.registry) {
            try {
                registry = new PortRegistry(registryDir);
            } catch (IOException e) {
                warn("cannot create the port registry " + registryDir + " (" + e + "); peers are known from the config only");
            }
        }

        Stamper stamper = new Stamper(hlc, shared);
        EventLog log = new EventLog(config.logDir, config.node, proc, stamper, config.queueCapacity);
        stamper.attach(log);
        AgentRuntime rt = new AgentRuntime(config, stamper, log, registry);
        log.start();
        String info = "hlctrace agent " + VERSION + (attached ? " (attached to a running JVM: connections open before stay plain)" : "")
                + ": node " + config.node + ", process " + proc + ", " + clockDescription
                + ", max offset " + (hlc.guardEnabled() ? config.maxOffset.toMillis() + " ms" : "off (guard disabled)")
                + ", config " + config.source + ", log " + log.file().toAbsolutePath()
                + (registry != null ? ", port registry " + registry.dir() : ", port registry off");
        System.err.println(info);
        stamper.log(stamper.lifecycle("start", null, info));
        PortRegistry reg = registry;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (reg != null) reg.unregisterAll();
            long refused = hlc.refusedCount();
            long dropped = log.droppedTotal();
            log.close(stamper.lifecycle("stop", null, "refused " + refused + " remote timestamps, dropped " + dropped + " events"));
        }, "hlctrace-shutdown"));
        return rt;
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
     * Loads every class of the agent (not the shaded Byte Buddy and SnakeYAML) and the JDK classes the
     * hooks use, so no class loading happens inside advice: that would pin a virtual thread, and
     * could recurse into a hooked class being loaded.
     */
    private static void preload(String jar) throws IOException, ClassNotFoundException {
        try (java.util.jar.JarFile jf = new java.util.jar.JarFile(jar)) {
            for (java.util.jar.JarEntry e : java.util.Collections.list(jf.entries())) {
                String n = e.getName();
                if (!n.endsWith(".class") || n.contains("/shaded/bytebuddy/") || n.contains("/shaded/snakeyaml/") || n.contains("/advice/")) continue;
                if (!n.startsWith("io/hlctrace/agent/")) continue;
                Class.forName(n.substring(0, n.length() - 6).replace('/', '.'), false, null);
            }
        }
        for (Class<?> c : new Class<?>[] {java.io.EOFException.class, java.util.WeakHashMap.class, java.nio.channels.SocketChannel.class,
                java.util.concurrent.ConcurrentLinkedQueue.class, java.util.Optional.class, ProcessHandle.class}) {
            Class.forName(c.getName(), true, c.getClassLoader());
        }
        for (Class<?> c : new Class<?>[] {SocketHooks.class, NioHooks.class, UdpHooks.class, TcpConnection.class, Frame.class,
                Stamper.class, HybridLogicalClock.class, HlcTimestamp.class}) {
            Class.forName(c.getName(), true, null);
        }
        NioHooks.bypass(); // initialises this thread's flag, and the ThreadLocal machinery, outside any advice
        byte[] probe = new byte[Frame.HEADER_SIZE];
        Frame.writeHeader(probe, 0, 1, 1, 1);
        if (Frame.validate(probe, 0) != null) throw new IllegalStateException("frame codec self-check failed");
    }

    private static void install(Instrumentation inst, File jar) throws IOException {
        long tInstall = System.nanoTime();
        ClassFileLocator locator = ClassFileLocator.ForJarFile.of(jar);
        // Load the hooked JDK types now, and build the advice before installing: resolving an advice
        // class while a hooked type is being defined would load that type again (ClassCircularityError)
        for (String name : new String[] {"java.net.Socket", "java.net.ServerSocket", "java.net.Socket$SocketInputStream",
                "java.net.Socket$SocketOutputStream", "sun.nio.ch.SocketChannelImpl", "sun.nio.ch.ServerSocketChannelImpl",
                "sun.nio.ch.DatagramChannelImpl", "sun.nio.ch.FileChannelImpl"}) {
            try {
                Class.forName(name, false, null);
            } catch (ClassNotFoundException e) {
                warn("JDK type " + name + " not found (" + e + "); its hook is skipped");
            }
        }
        Advice read = Advice.to(SocketInputReadAdvice.class, locator);
        Advice available = Advice.to(SocketInputAvailableAdvice.class, locator);
        Advice write = Advice.to(SocketOutputWriteAdvice.class, locator);
        Advice connect = Advice.to(SocketConnectAdvice.class, locator);
        Advice close = Advice.to(SocketCloseAdvice.class, locator);
        Advice accept = Advice.to(ServerSocketAcceptAdvice.class, locator);
        Advice bind = Advice.to(ServerSocketBindAdvice.class, locator);
        Advice serverClose = Advice.to(ServerSocketCloseAdvice.class, locator);
        Advice uncovered = Advice.to(UncoveredApiAdvice.class, locator);
        Advice chRead = Advice.to(ChannelReadAdvice.class, locator);
        Advice chScatter = Advice.to(ChannelScatterReadAdvice.class, locator);
        Advice chWrite = Advice.to(ChannelWriteAdvice.class, locator);
        Advice chGather = Advice.to(ChannelGatherWriteAdvice.class, locator);
        Advice adRead = Advice.to(AdaptorReadAdvice.class, locator);
        Advice adWrite = Advice.to(AdaptorWriteAdvice.class, locator);
        Advice chConnect = Advice.to(ChannelLifecycleAdvice.Connect.class, locator);
        Advice chBlockingConnect = Advice.to(ChannelLifecycleAdvice.BlockingConnect.class, locator);
        Advice chAccepted = Advice.to(ChannelLifecycleAdvice.Accepted.class, locator);
        Advice chClose = Advice.to(ChannelLifecycleAdvice.Close.class, locator);
        Advice chBind = Advice.to(ChannelLifecycleAdvice.Bind.class, locator);
        Advice udpSend = Advice.to(DatagramAdvice.Send.class, locator);
        Advice udpReceive = Advice.to(DatagramAdvice.Receive.class, locator);
        Advice udpBind = Advice.to(DatagramAdvice.Bind.class, locator);
        Advice transferTo = Advice.to(FileChannelTransferAdvice.To.class, locator);
        Advice transferFrom = Advice.to(FileChannelTransferAdvice.From.class, locator);
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
        long tAdvice = System.nanoTime();
        java.util.List<Class<?>> loaded = new java.util.ArrayList<>();
        for (String name : new String[] {"java.net.Socket", "java.net.ServerSocket", "java.net.Socket$SocketInputStream",
                "java.net.Socket$SocketOutputStream", "sun.nio.ch.SocketChannelImpl", "sun.nio.ch.ServerSocketChannelImpl",
                "sun.nio.ch.DatagramChannelImpl", "sun.nio.ch.FileChannelImpl", "sun.nio.ch.UnixAsynchronousSocketChannelImpl", "sun.nio.ch.UnixAsynchronousServerSocketChannelImpl"}) {
            for (Class<?> c : inst.getAllLoadedClasses()) {
                if (c.getName().equals(name)) loaded.add(c);
            }
        }
        new AgentBuilder.Default(new net.bytebuddy.ByteBuddy().with(net.bytebuddy.dynamic.scaffold.TypeValidation.DISABLED))
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                // retransform only the hooked JDK types already loaded, not a scan of every loaded class
                .with(new AgentBuilder.RedefinitionStrategy.DiscoveryStrategy.Explicit(loaded.toArray(new Class<?>[0])))
                .with(AgentBuilder.PoolStrategy.Default.FAST)
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(AgentBuilder.TypeStrategy.Default.REDEFINE)
                .with(new ErrorListener())
                // java.* and sun.* are ignored by default: the hooked types are named explicitly instead
                .ignore(none())
                .type(named("java.net.Socket$SocketInputStream"))
                .transform((b, td, cl, m, pd) -> b
                        .visit(read.on(named("read").and(takesArguments(byte[].class, int.class, int.class))))
                        .visit(available.on(named("available").and(takesNoArguments()))))
                .type(named("java.net.Socket$SocketOutputStream"))
                .transform((b, td, cl, m, pd) -> b
                        .visit(write.on(named("write").and(takesArguments(byte[].class, int.class, int.class)))))
                .type(named("java.net.Socket"))
                .transform((b, td, cl, m, pd) -> b
                        .visit(connect.on(named("connect").and(takesArguments(SocketAddress.class, int.class))))
                        .visit(close.on(named("close").and(takesNoArguments()))))
                .type(named("java.net.ServerSocket"))
                .transform((b, td, cl, m, pd) -> b
                        .visit(accept.on(named("implAccept").and(takesArguments(java.net.Socket.class))))
                        .visit(bind.on(named("bind").and(takesArguments(SocketAddress.class, int.class))))
                        .visit(serverClose.on(named("close").and(takesNoArguments()))))
                .type(named("sun.nio.ch.SocketChannelImpl"))
                .transform((b, td, cl, m, pd) -> b
                        .visit(chRead.on(named("read").and(takesArguments(ByteBuffer.class))))
                        .visit(chScatter.on(named("read").and(takesArguments(ByteBuffer[].class, int.class, int.class))))
                        .visit(chWrite.on(named("write").and(takesArguments(ByteBuffer.class))))
                        .visit(chGather.on(named("write").and(takesArguments(ByteBuffer[].class, int.class, int.class))))
                        .visit(adRead.on(named("blockingRead").and(takesArguments(byte[].class, int.class, int.class, long.class))))
                        .visit(adWrite.on(named("blockingWriteFully").and(takesArguments(byte[].class, int.class, int.class))))
                        .visit(chConnect.on(named("connect").and(takesArguments(SocketAddress.class)).or(named("finishConnect").and(takesNoArguments()))))
                        .visit(chBlockingConnect.on(named("blockingConnect").and(takesArguments(SocketAddress.class, long.class))))
                        .visit(chAccepted.on(isConstructor().and(takesArguments(4))))
                        .visit(chClose.on(named("implCloseSelectableChannel").and(takesNoArguments()))))
                .type(named("sun.nio.ch.ServerSocketChannelImpl"))
                .transform((b, td, cl, m, pd) -> b.visit(chBind.on(named("bind").and(takesArguments(SocketAddress.class, int.class)))))
                .type(named("sun.nio.ch.DatagramChannelImpl"))
                .transform((b, td, cl, m, pd) -> b
                        .visit(udpSend.on(named("send").and(takesArguments(java.io.FileDescriptor.class, ByteBuffer.class, java.net.InetSocketAddress.class))))
                        .visit(udpReceive.on(named("receive").and(takesArguments(ByteBuffer.class, boolean.class))))
                        .visit(uncovered.on(named("read").and(takesArguments(ByteBuffer.class)).or(named("write").and(takesArguments(ByteBuffer.class)))))
                        .visit(udpBind.on(named("bind").and(takesArguments(SocketAddress.class)).and(net.bytebuddy.matcher.ElementMatchers.returns(
                                named("java.nio.channels.DatagramChannel"))))))
                .type(named("sun.nio.ch.FileChannelImpl"))
                .transform((b, td, cl, m, pd) -> b
                        .visit(transferTo.on(named("transferTo").and(takesArguments(long.class, long.class, java.nio.channels.WritableByteChannel.class))))
                        .visit(transferFrom.on(named("transferFrom").and(takesArguments(java.nio.channels.ReadableByteChannel.class, long.class, long.class)))))
                .type(named("sun.nio.ch.UnixAsynchronousSocketChannelImpl")
                        .or(named("sun.nio.ch.UnixAsynchronousServerSocketChannelImpl"))
                        // native transports do their socket I/O in C, out of the agent's sight
                        .or(named("io.netty.channel.epoll.EpollSocketChannel"))
                        .or(named("io.netty.channel.epoll.EpollServerSocketChannel"))
                        .or(named("io.netty.channel.epoll.EpollDatagramChannel"))
                        .or(named("io.netty.incubator.channel.uring.IOUringSocketChannel"))
                        .or(named("io.netty.channel.uring.IoUringSocketChannel")))
                .transform((b, td, cl, m, pd) -> b.visit(uncovered.on(isConstructor())))
                .installOn(inst);
        if (Boolean.getBoolean("hlctrace.agent.debug")) {
            System.err.printf("hlctrace agent: hooks: advice built in %d ms, installed in %d ms%n", (tAdvice - tInstall) / 1_000_000,
                    (System.nanoTime() - tAdvice) / 1_000_000);
        }
    }

    /** Byte Buddy errors are reported: a hook that failed to install means that API is not traced. */
    private static final class ErrorListener extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded, Throwable throwable) {
            warn("could not instrument " + typeName + " (" + throwable + "); its messages are not traced");
        }

        @Override
        public void onTransformation(TypeDescription td, ClassLoader cl, JavaModule m, boolean loaded, DynamicType dynamicType) {
            if (Boolean.getBoolean("hlctrace.agent.debug")) System.err.println("hlctrace agent: instrumented " + td.getName());
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
