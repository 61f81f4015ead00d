package io.hlctrace.sync;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.PhysicalClock;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.crypto.Mac;

/**
 * One executor's clock-sync daemon: every heartbeat it sends a UDP request to each peer and
 * answers the peers' requests on the same socket; every monitor interval it lets the
 * {@link SyncEngine} decide, which corrects the executor clock record, sets or clears its unhealthy
 * flag, and the service writes the status file.
 *
 * <p>The kernel probe constructs it with the BPF clock map's record; {@link SyncMain} with an
 * {@link io.hlctrace.hlc.ExecutorClockFile}'s. {@code base} is the host clock the record's offset is
 * added to (CLOCK_REALTIME in production).
 */
public final class ClockSyncService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.hlctrace.sync");

    private final SyncConfig config;
    private final SyncEngine engine;
    private final PhysicalClock executorClock;
    private final byte[] key;
    private final Map<Long, Outstanding> outstanding = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong(System.nanoTime() & 0x7FFF_FFFF_FFFFL);
    private final AtomicLong sentPackets = new AtomicLong();
    private final AtomicLong sentBytes = new AtomicLong();
    private final AtomicLong receivedPackets = new AtomicLong();
    private final AtomicLong receivedBytes = new AtomicLong();
    private final AtomicLong authFailures = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong unknownSender = new AtomicLong();
    private final AtomicLong unmatched = new AtomicLong();
    private final ExecutorClockState state;

    private DatagramSocket socket;
    private ScheduledExecutorService scheduler;
    private Thread receiver;
    private volatile boolean running;
    private long tick;
    private long rateSentPackets, rateSentBytes, rateRecvPackets, rateRecvBytes, rateAtNanos;
    private final AtomicLong lastAuthWarn = new AtomicLong(Long.MIN_VALUE / 2);

    private record Outstanding(String peer, long t1, long generation, long sentAtNanos) {}

    public ClockSyncService(SyncConfig config, ExecutorClockState state, PhysicalClock base) {
        this.config = config;
        this.state = state;
        this.engine = new SyncEngine(config, state, base);
        this.executorClock = engine.executorClock();
        this.key = config.hmacKey().orElse(null);
    }

    /** Binds the socket and starts probing; a port in use fails here with the address in the message. */
    public synchronized ClockSyncService start() throws IOException {
        if (running) return this;
        try {
            socket = new DatagramSocket(config.bind());
        } catch (SocketException e) {
            throw new IOException("clock sync of executor " + config.executorId() + " cannot bind UDP " + config.bind().getHostString()
                    + ":" + config.bind().getPort() + ": " + e.getMessage() + " (another daemon on that port, or an address this host does not have?)", e);
        }
        socket.setSoTimeout(200);
        running = true;
        rateAtNanos = System.nanoTime();
        receiver = new Thread(this::receiveLoop, "hlctrace-sync-recv-" + config.executorId());
        receiver.setDaemon(true);
        receiver.start();
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hlctrace-sync-" + config.executorId());
            t.setDaemon(true);
            return t;
        });
        long hb = config.heartbeat().toNanos();
        // fixed delay, not fixed rate: after a stall (GC, a busy host) a fixed rate fires the missed
        // heartbeats back to back, and a monitor tick right after a probe would find no answers yet
        scheduler.scheduleWithFixedDelay(this::onHeartbeat, 0, hb, TimeUnit.NANOSECONDS);
        LOG.log(Level.INFO, "clock sync of executor " + config.executorId() + " started: " + config);
        return this;
    }

    public SyncEngine engine() { return engine; }

    /** The last decided status (also written to the status file). */
    public SyncStatus status() { return engine.status(); }

    public void addHealthListener(Consumer<SyncEngine.HealthChange> l) { engine.addHealthListener(l); }

    /** The UDP port actually bound (useful with port 0). */
    public int port() { return socket.getLocalPort(); }

    private void onHeartbeat() {
        try {
            long t = tick++;
            if (t > 0 && t % config.heartbeatsPerMonitor() == 0) {
                engine.traffic(traffic());
                SyncStatus s = engine.monitor();
                writeStatus(s);
                expireOutstanding();
            } else if (t > 0) {
                engine.heartbeat();
            }
            sendProbes();
        } catch (RuntimeException e) {
            // a scheduled task that throws is never run again: report and keep the daemon alive
            LOG.log(Level.ERROR, "clock sync heartbeat of executor " + config.executorId() + " failed", e);
        }
    }

    private final ByteBuffer sendBuf = ByteBuffer.allocate(SyncPacket.MAX_SIZE);
    private Mac sendMac;

    private void sendProbes() {
        if (sendMac == null && key != null) sendMac = SyncPacket.newMac(key);
        for (SyncConfig.Peer p : config.peers()) {
            long s = seq.incrementAndGet();
            long gen = engine.generation();
            long t1 = executorClock.nanos();
            SyncPacket req = new SyncPacket(SyncPacket.REQUEST, state.unhealthy(), config.executorId(), s, t1, 0, 0, gen);
            req.encode(sendBuf, sendMac);
            outstanding.put(s, new Outstanding(p.id(), t1, gen, System.nanoTime()));
            try {
                socket.send(new DatagramPacket(sendBuf.array(), sendBuf.limit(), p.address()));
                sentPackets.incrementAndGet();
                sentBytes.addAndGet(sendBuf.limit());
            } catch (IOException e) {
                // an unreachable peer (link down, no route) is what health detects; not an error here
                outstanding.remove(s);
            }
        }
    }

    private void expireOutstanding() {
        long limit = System.nanoTime() - config.monitorInterval().toNanos();
        for (Iterator<Outstanding> it = outstanding.values().iterator(); it.hasNext(); ) {
            if (it.next().sentAtNanos() < limit) it.remove();
        }
    }

    private void receiveLoop() {
        Mac mac = SyncPacket.newMac(key);
        Mac replyMac = SyncPacket.newMac(key);
        byte[] buf = new byte[SyncPacket.MAX_SIZE + 1];
        ByteBuffer out = ByteBuffer.allocate(SyncPacket.MAX_SIZE);
        DatagramPacket dp = new DatagramPacket(buf, buf.length);
        while (running) {
            try {
                dp.setLength(buf.length);
                socket.receive(dp);
            } catch (SocketTimeoutException e) {
                continue;
            } catch (IOException e) {
                if (running) LOG.log(Level.WARNING, "clock sync receive failed: " + e.getMessage());
                continue;
            }
            // read the clock first: every microsecond between arrival and this read widens the error
            long genAtArrival = engine.generation();
            long arrival = executorClock.nanos();
            receivedPackets.incrementAndGet();
            receivedBytes.addAndGet(dp.getLength());
            SyncPacket p;
            try {
                p = SyncPacket.decode(buf, dp.getLength(), mac);
            } catch (SyncPacket.RejectedPacketException e) {
                if (e.rejection() == SyncPacket.Rejection.AUTH) {
                    authFailures.incrementAndGet();
                    long now = System.nanoTime();
                    long last = lastAuthWarn.get();
                    if (now - last > 10_000_000_000L && lastAuthWarn.compareAndSet(last, now)) {
                        LOG.log(Level.WARNING, "clock sync of " + config.executorId() + " dropped a packet from " + dp.getSocketAddress()
                                + ": " + e.getMessage() + " (counted in auth_failures; further ones are counted silently for 10 s)");
                    }
                } else {
                    malformed.incrementAndGet();
                }
                continue;
            }
            if (config.peer(p.sender()).isEmpty()) {
                unknownSender.incrementAndGet();
                continue;
            }
            if (p.type() == SyncPacket.REQUEST) {
                long t3 = executorClock.nanos();
                if (engine.generation() != genAtArrival) continue; // corrected in between: t2 and t3 disagree
                SyncPacket resp = new SyncPacket(SyncPacket.RESPONSE, state.unhealthy(), config.executorId(), p.seq(), p.t1(),
                        arrival, t3, genAtArrival);
                resp.encode(out, replyMac);
                try {
                    socket.send(new DatagramPacket(out.array(), out.limit(), dp.getSocketAddress()));
                    sentPackets.incrementAndGet();
                    sentBytes.addAndGet(out.limit());
                } catch (IOException e) {
                    // the requester's link went down meanwhile; it will notice the missing answer
                }
            } else {
                Outstanding o = outstanding.remove(p.seq());
                // only the answer to a request we sent, from the peer we sent it to, echoing our t1:
                // a replayed or forged answer matches none
                if (o == null || !o.peer().equals(p.sender()) || o.t1() != p.t1()) {
                    if (o != null) outstanding.put(p.seq(), o);
                    unmatched.incrementAndGet();
                    continue;
                }
                engine.offer(p.sender(), o.t1(), p.t2(), p.t3(), arrival, p.generation(), o.generation(), p.senderUnhealthy());
            }
        }
    }

    private SyncStatus.Traffic traffic() {
        long now = System.nanoTime();
        double secs = Math.max(1e-9, (now - rateAtNanos) / 1e9);
        long sp = sentPackets.get(), sb = sentBytes.get(), rp = receivedPackets.get(), rb = receivedBytes.get();
        SyncStatus.Traffic t = new SyncStatus.Traffic(sp, sb, rp, rb, authFailures.get(), malformed.get(), unknownSender.get(),
                unmatched.get(), (sp - rateSentPackets) / secs, (sb - rateSentBytes) / secs, (rp - rateRecvPackets) / secs,
                (rb - rateRecvBytes) / secs);
        rateSentPackets = sp;
        rateSentBytes = sb;
        rateRecvPackets = rp;
        rateRecvBytes = rb;
        rateAtNanos = now;
        return t;
    }

    private void writeStatus(SyncStatus s) {
        if (config.statusFile().isEmpty()) return;
        Path file = config.statusFile().get();
        try {
            writeAtomically(file, s.toJson() + "\n");
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot write the clock-sync status file " + file + ": " + e.getMessage()
                    + " (the sync itself goes on; check the directory exists and is writable)");
        }
    }

    /** Written aside and renamed, so a reader never sees half a status. */
    static void writeAtomically(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Stops probing and answering; the clock record keeps its last offset, flag and error. */
    @Override
    public synchronized void close() {
        if (!running) return;
        running = false;
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(2, TimeUnit.SECONDS);
            receiver.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        socket.close();
        LOG.log(Level.INFO, "clock sync of executor " + config.executorId() + " stopped");
    }
}
