package io.hlctrace.agent.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * The agent benchmark's workload (scripts/bench-agent.sh runs it with and without the agent and
 * prints the ratios). Loopback, one JVM, server on a thread:
 * <ul>
 * <li>pingpong-socket / pingpong-nio: 1 KiB request, 1 KiB response, one at a time; p50 and p99 round trip.</li>
 * <li>oneThread-socket / oneThread-nio: the same 1 KiB exchange with both ends driven by one
 * thread (the bytes are always there when it reads), so no wake-up or scheduling is measured: the
 * CPU cost of the 4 sends and receives of a round trip, much steadier than the two-thread figure
 * on a shared 2-core machine; p50 per round trip.</li>
 * <li>loops-nio: two threads, each driving 16 connections in turn with both ends on the thread
 * (an event loop's pattern: a different channel on every call), 1 KiB exchanges; mean time per
 * round trip per thread. Both cores are busy with the application, so the agent's writer thread
 * takes its CPU from it, and the two threads stamp at once.</li>
 * <li>stream-socket: 64 KiB writes, one way; MB/s.</li>
 * </ul>
 * Prints "name key=value ..." lines.
 */
public final class AgentBench {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        long streamMiB = args.length > 1 ? Long.parseLong(args[1]) : 2048;
        pingPongSocket(rounds / 4); // warm-up
        pingPongNio(rounds / 4);
        oneThreadSocket(rounds / 4);
        oneThreadNio(rounds / 4);
        loops(2, 16, rounds / 4);
        stream(streamMiB / 8);
        report("pingpong-socket", pingPongSocket(rounds));
        report("pingpong-nio", pingPongNio(rounds));
        report("oneThread-socket", oneThreadSocket(rounds));
        report("oneThread-nio", oneThreadNio(rounds));
        System.out.printf("loops-nio mean_us=%.2f%n", loops(2, 16, rounds * 2));
        double mbps = stream(streamMiB);
        System.out.printf("stream-socket MBps=%.1f%n", mbps);
    }

    private static void report(String name, long[] nanos) {
        Arrays.sort(nanos);
        System.out.printf("%s p50_us=%.2f p99_us=%.2f%n", name, nanos[nanos.length / 2] / 1e3, nanos[(int) (nanos.length * 0.99)] / 1e3);
    }

    private static long[] pingPongSocket(int rounds) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    s.setTcpNoDelay(true);
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    byte[] b = new byte[1024];
                    for (int i = 0; i < rounds; i++) {
                        in.readFully(b);
                        out.write(b);
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            server.start();
            long[] t = new long[rounds];
            try (Socket c = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                c.setTcpNoDelay(true);
                DataInputStream in = new DataInputStream(c.getInputStream());
                OutputStream out = c.getOutputStream();
                byte[] b = new byte[1024];
                for (int i = 0; i < rounds; i++) {
                    long t0 = System.nanoTime();
                    out.write(b);
                    in.readFully(b);
                    t[i] = System.nanoTime() - t0;
                }
            }
            server.join();
            return t;
        }
    }

    private static long[] oneThreadSocket(int rounds) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
             Socket c = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
             Socket s = ss.accept()) {
            c.setTcpNoDelay(true);
            s.setTcpNoDelay(true);
            DataInputStream cin = new DataInputStream(c.getInputStream()), sin = new DataInputStream(s.getInputStream());
            OutputStream cout = c.getOutputStream(), sout = s.getOutputStream();
            byte[] b = new byte[1024];
            long[] t = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                cout.write(b);
                sin.readFully(b);
                sout.write(b);
                cin.readFully(b);
                t[i] = System.nanoTime() - t0;
            }
            return t;
        }
    }

    private static long[] oneThreadNio(int rounds) throws Exception {
        try (ServerSocketChannel ss = ServerSocketChannel.open()) {
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel c = SocketChannel.open(ss.getLocalAddress()); SocketChannel s = ss.accept()) {
                c.socket().setTcpNoDelay(true);
                s.socket().setTcpNoDelay(true);
                ByteBuffer b = ByteBuffer.allocateDirect(1024);
                long[] t = new long[rounds];
                for (int i = 0; i < rounds; i++) {
                    long t0 = System.nanoTime();
                    b.clear().position(1024);
                    writeFully(c, b);
                    readFully(s, b);
                    writeFully(s, b);
                    readFully(c, b);
                    t[i] = System.nanoTime() - t0;
                }
                return t;
            }
        }
    }

    /** Mean microseconds per round trip per thread. */
    private static double loops(int threads, int conns, int roundsPerThread) throws Exception {
        try (ServerSocketChannel ss = ServerSocketChannel.open()) {
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel[][] client = new SocketChannel[threads][conns], server = new SocketChannel[threads][conns];
            try {
                for (int t = 0; t < threads; t++) {
                    for (int i = 0; i < conns; i++) {
                        client[t][i] = SocketChannel.open(ss.getLocalAddress());
                        server[t][i] = ss.accept();
                        client[t][i].socket().setTcpNoDelay(true);
                        server[t][i].socket().setTcpNoDelay(true);
                    }
                }
                long[] nanos = new long[threads];
                Thread[] loop = new Thread[threads];
                java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
                for (int t = 0; t < threads; t++) {
                    SocketChannel[] c = client[t], s = server[t];
                    int ti = t;
                    loop[t] = new Thread(() -> {
                        ByteBuffer b = ByteBuffer.allocateDirect(1024);
                        long t0 = System.nanoTime();
                        try {
                            for (int r = 0; r < roundsPerThread; r++) {
                                int i = r % conns;
                                b.clear().position(1024);
                                writeFully(c[i], b);
                                readFully(s[i], b);
                                writeFully(s[i], b);
                                readFully(c[i], b);
                            }
                        } catch (IOException | RuntimeException e) {
                            failed.compareAndSet(null, e);
                        }
                        nanos[ti] = System.nanoTime() - t0;
                    });
                }
                for (Thread t : loop) t.start();
                for (Thread t : loop) t.join();
                if (failed.get() != null) throw new IOException("loops-nio failed", failed.get());
                long total = 0;
                for (long n : nanos) total += n;
                return total / 1e3 / threads / roundsPerThread;
            } finally {
                for (SocketChannel[] row : client) for (SocketChannel ch : row) if (ch != null) ch.close();
                for (SocketChannel[] row : server) for (SocketChannel ch : row) if (ch != null) ch.close();
            }
        }
    }

    private static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        b.clear();
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new IOException("EOF");
        }
    }

    private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        b.flip();
        while (b.hasRemaining()) ch.write(b);
    }

    private static long[] pingPongNio(int rounds) throws Exception {
        try (ServerSocketChannel ss = ServerSocketChannel.open()) {
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread server = new Thread(() -> {
                try (SocketChannel s = ss.accept()) {
                    s.socket().setTcpNoDelay(true);
                    ByteBuffer b = ByteBuffer.allocateDirect(1024);
                    for (int i = 0; i < rounds; i++) {
                        readFully(s, b);
                        writeFully(s, b);
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            server.start();
            long[] t = new long[rounds];
            try (SocketChannel c = SocketChannel.open(ss.getLocalAddress())) {
                c.socket().setTcpNoDelay(true);
                ByteBuffer b = ByteBuffer.allocateDirect(1024);
                for (int i = 0; i < rounds; i++) {
                    long t0 = System.nanoTime();
                    b.clear().position(1024);
                    writeFully(c, b);
                    readFully(c, b);
                    t[i] = System.nanoTime() - t0;
                }
            }
            server.join();
            return t;
        }
    }

    private static double stream(long mib) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            long total = mib << 20;
            Thread server = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    InputStream in = s.getInputStream();
                    byte[] b = new byte[65536];
                    long got = 0;
                    int n;
                    while ((n = in.read(b)) > 0) got += n;
                    if (got != total) throw new IOException("received " + got + " of " + total);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            server.start();
            long t0 = System.nanoTime();
            try (Socket c = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                OutputStream out = c.getOutputStream();
                byte[] b = new byte[65536];
                for (long sent = 0; sent < total; sent += b.length) out.write(b);
            }
            server.join();
            return total / 1e6 / ((System.nanoTime() - t0) / 1e9);
        }
    }
}
