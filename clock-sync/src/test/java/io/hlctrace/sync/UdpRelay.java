package io.hlctrace.sync;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The test harness's stand-in for netem (not in this kernel): a user-space UDP relay that delays
 * each direction of a flow by its own fixed delay plus uniform jitter, or drops everything.
 * One {@link Flow} carries the requests of one executor to one peer and the answers back: the
 * requester sends to {@link Flow#listenAddress()}, the relay forwards from a socket on the peer's
 * side, and relays the answers back from the listening socket.
 */
public final class UdpRelay implements AutoCloseable {
    private final ScheduledExecutorService delayer = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "relay-delay");
        t.setDaemon(true);
        return t;
    });
    private final List<Flow> flows = new ArrayList<>();
    private volatile boolean running = true;

    /** Per-direction delay: fixed + uniform [0, jitter), in microseconds. */
    public record Delay(long fixedMicros, long jitterMicros) {
        public static final Delay NONE = new Delay(0, 0);

        long sampleNanos() {
            long j = jitterMicros <= 0 ? 0 : ThreadLocalRandom.current().nextLong(jitterMicros);
            return (fixedMicros + j) * 1000;
        }
    }

    public final class Flow {
        private final DatagramSocket listen;
        private final DatagramSocket forward;
        private final InetSocketAddress target;
        private volatile SocketAddress requester;
        volatile Delay there = Delay.NONE;
        volatile Delay back = Delay.NONE;
        volatile boolean drop;
        final AtomicLong relayed = new AtomicLong();
        final AtomicLong dropped = new AtomicLong();

        Flow(String listenHost, String forwardHost, InetSocketAddress target) throws IOException {
            this.listen = new DatagramSocket(new InetSocketAddress(listenHost, 0));
            this.forward = new DatagramSocket(new InetSocketAddress(forwardHost, 0));
            this.target = target;
            listen.setSoTimeout(200);
            forward.setSoTimeout(200);
            start(listen, true);
            start(forward, false);
        }

        /** Where the requester sends: host:port. */
        public String listenAddress() { return listen.getLocalAddress().getHostAddress() + ":" + listen.getLocalPort(); }

        public Flow delays(Delay there, Delay back) {
            this.there = there;
            this.back = back;
            return this;
        }

        public void drop(boolean d) { this.drop = d; }

        private void start(DatagramSocket in, boolean outbound) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[2048];
                while (running) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        in.receive(p);
                    } catch (SocketTimeoutException e) {
                        continue;
                    } catch (IOException e) {
                        return;
                    }
                    if (drop) {
                        dropped.incrementAndGet();
                        continue;
                    }
                    byte[] data = java.util.Arrays.copyOf(p.getData(), p.getLength());
                    DatagramSocket out;
                    SocketAddress to;
                    long delay;
                    if (outbound) {
                        requester = p.getSocketAddress();
                        out = forward;
                        to = target;
                        delay = there.sampleNanos();
                    } else {
                        out = listen;
                        to = requester;
                        delay = back.sampleNanos();
                    }
                    if (to == null) continue;
                    Runnable send = () -> {
                        try {
                            out.send(new DatagramPacket(data, data.length, to));
                            relayed.incrementAndGet();
                        } catch (IOException e) {
                            dropped.incrementAndGet();
                        }
                    };
                    if (delay == 0) send.run();
                    else delayer.schedule(send, delay, TimeUnit.NANOSECONDS);
                }
            }, "relay-" + (outbound ? "out" : "back"));
            t.setDaemon(true);
            t.start();
        }

        void close() {
            listen.close();
            forward.close();
        }
    }

    /** A flow listening on {@code listenHost} (the requester's side) towards {@code target} via {@code forwardHost}. */
    public synchronized Flow flow(String listenHost, String forwardHost, InetSocketAddress target) throws IOException {
        Flow f = new Flow(listenHost, forwardHost, target);
        flows.add(f);
        return f;
    }

    @Override
    public synchronized void close() {
        running = false;
        for (Flow f : flows) f.close();
        delayer.shutdownNow();
    }
}
