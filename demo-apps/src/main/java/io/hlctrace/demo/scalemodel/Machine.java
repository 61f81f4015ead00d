package io.hlctrace.demo.scalemodel;

import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.LamportClock;
import io.hlctrace.hlc.SystemPhysicalClock;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One machine of the scale model, run as its own JVM: a clock that ticks {@code rate} times per
 * model second; on each tick it takes one message from its queue if there is one, otherwise it
 * sends to one peer, to both, or does an internal event. Reader threads put incoming messages on
 * the queue as they arrive, independent of the tick, as in the notebook.
 *
 * <p>Talks to the coordinator over stdin/stdout: prints {@code LISTEN port}, reads
 * {@code PEERS id:port,...}, prints {@code READY}, reads {@code START epochMillis}, runs, writes its
 * log, prints {@code DONE ticks} and waits for {@code EXIT}.
 */
public final class Machine {
    /** One message on the wire: sender id, Lamport timestamp, HLC word. */
    record Message(int from, long lamport, long hlc) {}

    static final String LOG_HEADER = "sys_ns,tick,action,lamport,hlc,queue,from";

    public static void main(String[] args) throws Exception {
        int id = -1, rate = 0;
        double scale = 1, internal = 0.6;
        long seed = 0, wallMillis = 0;
        Path log = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--id" -> id = Integer.parseInt(v);
                case "--rate" -> rate = Integer.parseInt(v);
                case "--time-scale" -> scale = Double.parseDouble(v);
                case "--internal-prob" -> internal = Double.parseDouble(v);
                case "--seed" -> seed = Long.parseLong(v);
                case "--wall-millis" -> wallMillis = Long.parseLong(v);
                case "--log" -> log = Path.of(v);
                default -> throw new IllegalArgumentException("unknown machine option " + args[i]);
            }
        }
        if (id < 0 || rate <= 0 || log == null || wallMillis <= 0) {
            throw new IllegalArgumentException("machine needs --id --rate --wall-millis --log");
        }
        new Machine(id, rate, scale, internal, seed, wallMillis, log).run();
    }

    private final int id;
    private final int rate;
    private final double timeScale;
    private final double internalProbability;
    private final Random random;
    private final long wallMillis;
    private final Path logPath;
    private final ConcurrentLinkedQueue<Message> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final LamportClock lamport = new LamportClock();
    // All machines share this host's clock, so the guard has nothing to refuse; off keeps it out of the picture.
    private final HybridLogicalClock hlc = new HybridLogicalClock(new io.hlctrace.hlc.AtomicClockCell(), SystemPhysicalClock.INSTANCE, HybridLogicalClock.GUARD_OFF);
    private final List<Integer> peerIds = new ArrayList<>();
    private final List<DataOutputStream> peerOut = new ArrayList<>();
    private volatile boolean stopping;

    private Machine(int id, int rate, double timeScale, double internalProbability, long seed, long wallMillis, Path logPath) {
        this.id = id;
        this.rate = rate;
        this.timeScale = timeScale;
        this.internalProbability = internalProbability;
        this.random = new Random(seed * 31 + id);
        this.wallMillis = wallMillis;
        this.logPath = logPath;
    }

    private void run() throws Exception {
        PrintStream out = System.out;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            out.println("LISTEN " + server.getLocalPort());
            out.flush();
            String peers = expect(in, "PEERS ");
            List<Socket> sockets = new ArrayList<>();
            try {
                int expectedIncoming = 0;
                for (String p : peers.split(",")) {
                    String[] idPort = p.split(":");
                    int peer = Integer.parseInt(idPort[0]);
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(idPort[1])), 5000);
                    s.setTcpNoDelay(true);
                    sockets.add(s);
                    DataOutputStream dos = new DataOutputStream(s.getOutputStream());
                    dos.writeByte(id);
                    dos.flush();
                    peerIds.add(peer);
                    peerOut.add(dos);
                    expectedIncoming++;
                }
                server.setSoTimeout(10_000);
                for (int i = 0; i < expectedIncoming; i++) {
                    Socket s = server.accept();
                    sockets.add(s);
                    Thread reader = new Thread(() -> readLoop(s), "reader-" + i);
                    reader.setDaemon(true);
                    reader.start();
                }
                out.println("READY");
                out.flush();
                long startMillis = Long.parseLong(expect(in, "START "));
                int ticks = tickLoop(startMillis);
                out.println("DONE " + ticks);
                out.flush();
                // Peers may still be in their last tick: keep the connections open until every machine is done.
                expect(in, "EXIT");
            } finally {
                stopping = true;
                for (Socket s : sockets) {
                    try { s.close(); } catch (IOException ignored) { /* closing anyway */ }
                }
            }
        }
    }

    private static String expect(BufferedReader in, String prefix) throws IOException {
        String line = in.readLine();
        if (line == null || !line.startsWith(prefix)) {
            throw new IOException("coordinator protocol: expected \"" + prefix + "...\", got " + (line == null ? "end of input" : "\"" + line + "\""));
        }
        return line.substring(prefix.length()).strip();
    }

    private void readLoop(Socket s) {
        try (DataInputStream dis = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream()))) {
            int from = dis.readByte();
            while (true) {
                long l = dis.readLong();
                long h = dis.readLong();
                queue.add(new Message(from, l, h));
                queued.incrementAndGet();
            }
        } catch (EOFException e) {
            // the peer finished its run and closed: normal end
        } catch (IOException e) {
            if (!stopping) System.err.println("machine " + ScaleModelConfig.machineName(id) + ": reading from a peer failed: " + e);
        }
    }

    private int tickLoop(long startMillis) throws IOException {
        long tickNanos = Math.round(1e9 / (rate * timeScale));
        long startNano = System.nanoTime() + (startMillis - System.currentTimeMillis()) * 1_000_000L;
        long endNano = startNano + wallMillis * 1_000_000L;
        int tick = 0;
        StringBuilder line = new StringBuilder(96);
        try (BufferedWriter log = Files.newBufferedWriter(logPath, StandardCharsets.UTF_8)) {
            log.write(LOG_HEADER);
            log.newLine();
            while (true) {
                long due = startNano + tick * tickNanos;
                if (due >= endNano) break;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
                tick++;
                String action;
                long l, h;
                int from = -1;
                Message m = queue.poll();
                if (m != null) {
                    queued.decrementAndGet();
                    l = lamport.receive(m.lamport());
                    h = hlc.update(m.hlc()).timestamp();
                    action = "recv";
                    from = m.from();
                } else {
                    double r = random.nextDouble();
                    double sendShare = (1 - internalProbability) / 3;
                    if (r < internalProbability) {
                        l = lamport.tick();
                        h = hlc.now();
                        action = "internal";
                    } else {
                        int choice = Math.min(2, (int) ((r - internalProbability) / sendShare));
                        l = lamport.tick();
                        h = hlc.now();
                        if (choice == 2) {
                            send(0, l, h);
                            send(1, l, h);
                            action = "send_both";
                        } else {
                            send(choice, l, h);
                            action = "send_" + ScaleModelConfig.machineName(peerIds.get(choice));
                        }
                    }
                }
                line.setLength(0);
                line.append(SystemPhysicalClock.INSTANCE.nanos()).append(',').append(tick).append(',').append(action).append(',')
                        .append(l).append(',').append(HlcTimestamp.toHex(h)).append(',').append(queued.get()).append(',')
                        .append(from < 0 ? "" : ScaleModelConfig.machineName(from));
                log.write(line.toString());
                log.newLine();
            }
        }
        return tick;
    }

    private void send(int peerIndex, long l, long h) throws IOException {
        DataOutputStream dos = peerOut.get(peerIndex);
        dos.writeLong(l);
        dos.writeLong(h);
        dos.flush();
    }
}
