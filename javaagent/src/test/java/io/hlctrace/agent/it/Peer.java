package io.hlctrace.agent.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The application that the integration tests run in child JVMs (with and without the agent). It
 * knows nothing of hlctrace: it is what a user's program would be.
 *
 * <ul>
 * <li>{@code sink-server SEED}: prints "PORT n"; per connection reads with random read sizes until
 * EOF, then answers one line "sha256hex count" and closes. A read error prints
 * "CONN-ERROR delivered=N message".</li>
 * <li>{@code send-client PORT CONNECTIONS BYTES SEED}: concurrent connections, each sending random
 * bytes in random write sizes, then comparing the sink's answer with its own digest; prints
 * "OK n" or "MISMATCH ..." and exits 0 only when all matched.</li>
 * <li>{@code http-server}: prints "PORT n"; a minimal HTTP/1.1 server (Connection: close) whose
 * response body is {@link #httpBody(String)} of the request path.</li>
 * <li>{@code echo-server}: prints "PORT n"; per connection reads messages (4-byte length, then the
 * payload) and writes each one back in one write, until EOF.</li>
 * <li>{@code phase-client PORT PHASES MESSAGES SEED [socket|channel]}: one connection (a Socket, or
 * a blocking SocketChannel); prints "READY", then for each
 * line "GO n" on stdin sends MESSAGES random messages (one write each) and reads each echo, then
 * prints "DONE n BYTES" (bytes sent so far); at the end "SHA sent echoed" (SHA-256 of all bytes
 * sent and of all bytes echoed).</li>
 * </ul>
 */
public final class Peer {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "sink-server" -> sinkServer(Long.parseLong(args[1]));
            case "send-client" -> System.exit(sendClient(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Long.parseLong(args[4])));
            case "http-server" -> httpServer();
            case "nio-sink-server" -> nioSinkServer(Long.parseLong(args[1]));
            case "nio-send-client" -> System.exit(nioSendClient(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Long.parseLong(args[4])));
            case "jdk-http-server" -> jdkHttpServer();
            case "udp-server" -> udpServer();
            case "tls-server" -> tlsServer(args[1]);
            case "tls-client" -> System.exit(tlsClient(Integer.parseInt(args[1]), args[2]));
            case "h2-server" -> {
                org.h2.tools.Server server = org.h2.tools.Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
                System.out.println("PORT " + server.getPort());
                System.out.flush();
            }
            case "h2-client" -> System.exit(h2Client(Integer.parseInt(args[1]), Integer.parseInt(args[2])));
            case "uncovered" -> {
                for (int i = 0; i < 3; i++) {
                    try (java.nio.channels.AsynchronousServerSocketChannel a = java.nio.channels.AsynchronousServerSocketChannel.open()) {
                        a.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                    }
                }
                System.out.println("DONE");
            }
            case "transfer-client" -> System.exit(transferClient(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3])));
            case "udp-client" -> System.exit(udpClient(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3])));
            case "echo-server" -> echoServer();
            case "phase-client" -> System.exit(phaseClient(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Long.parseLong(args[4]),
                    args.length > 5 && args[5].equals("channel")));
            case "plain-paths-client" -> System.exit(plainPathsClient(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3])));
            case "jdk-http-client" -> System.exit(jdkHttpClient(Integer.parseInt(args[1]), Integer.parseInt(args[2])));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    static void echoServer() throws IOException {
        ServerSocket ss = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        System.out.println("PORT " + ss.getLocalPort());
        System.out.flush();
        while (true) {
            Socket s = ss.accept();
            Thread t = new Thread(() -> {
                try (s) {
                    java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    while (true) {
                        int len;
                        try {
                            len = in.readInt();
                        } catch (java.io.EOFException e) {
                            return;
                        }
                        byte[] m = new byte[4 + len];
                        ByteBuffer.wrap(m).putInt(len);
                        in.readFully(m, 4, len);
                        out.write(m);
                    }
                } catch (Exception e) {
                    System.out.println("CONN-ERROR " + e);
                }
            });
            t.setDaemon(true);
            t.start();
        }
    }

    static int phaseClient(int port, int phases, int messages, long seed, boolean channel) throws Exception {
        Random rnd = new Random(seed);
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        MessageDigest echoed = MessageDigest.getInstance("SHA-256");
        java.io.BufferedReader stdin = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.US_ASCII));
        long bytes = 0;
        java.net.InetSocketAddress addr = new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        try (java.io.Closeable conn = channel ? java.nio.channels.SocketChannel.open(addr) : new Socket(addr.getAddress(), port)) {
            OutputStream out;
            java.io.DataInputStream in;
            if (conn instanceof java.nio.channels.SocketChannel ch) {
                // the channel's own write and read (not its socket adaptor): the hooked SocketChannelImpl paths
                out = new OutputStream() {
                    @Override public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }
                    @Override public void write(byte[] b, int off, int len) throws IOException {
                        ByteBuffer bb = ByteBuffer.wrap(b, off, len);
                        while (bb.hasRemaining()) ch.write(bb);
                    }
                };
                in = new java.io.DataInputStream(new InputStream() {
                    @Override public int read() throws IOException { byte[] one = new byte[1]; return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF; }
                    @Override public int read(byte[] b, int off, int len) throws IOException { return ch.read(ByteBuffer.wrap(b, off, len)); }
                });
            } else {
                Socket s = (Socket) conn;
                out = s.getOutputStream();
                in = new java.io.DataInputStream(s.getInputStream());
            }
            System.out.println("READY");
            System.out.flush();
            for (int phase = 1; phase <= phases; phase++) {
                String go = stdin.readLine();
                if (!("GO " + phase).equals(go)) throw new IllegalStateException("expected GO " + phase + ", got " + go);
                for (int i = 0; i < messages; i++) {
                    int len = 1 + rnd.nextInt(3000);
                    byte[] m = new byte[4 + len];
                    rnd.nextBytes(m);
                    ByteBuffer.wrap(m).putInt(len);
                    out.write(m);
                    sent.update(m);
                    bytes += m.length;
                    byte[] back = new byte[4 + len];
                    in.readFully(back);
                    echoed.update(back);
                }
                System.out.println("DONE " + phase + " " + bytes);
                System.out.flush();
            }
        }
        System.out.println("SHA " + HexFormat.of().formatHex(sent.digest()) + " " + HexFormat.of().formatHex(echoed.digest()));
        System.out.flush();
        return 0;
    }

    static void sinkServer(long seed) throws IOException {
        ServerSocket ss = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        System.out.println("PORT " + ss.getLocalPort());
        System.out.flush();
        ExecutorService pool = Executors.newCachedThreadPool(r -> { Thread t = new Thread(r); t.setDaemon(true); return t; });
        Random seeds = new Random(seed);
        while (true) {
            Socket s = ss.accept();
            long connSeed = seeds.nextLong();
            pool.submit(() -> sink(s, new Random(connSeed)));
        }
    }

    private static void sink(Socket s, Random rnd) {
        long count = 0;
        try (s) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            byte[] buf = new byte[70_000];
            while (true) {
                int want = 1 + rnd.nextInt(rnd.nextBoolean() ? 64 : buf.length);
                int n = in.read(buf, 0, want);
                if (n < 0) break;
                if (n == 0) throw new IOException("a blocking read returned 0");
                sha.update(buf, 0, n);
                count += n;
            }
            String line = HexFormat.of().formatHex(sha.digest()) + " " + count + "\n";
            s.getOutputStream().write(line.getBytes(StandardCharsets.US_ASCII));
        } catch (Exception e) {
            System.out.println("CONN-ERROR delivered=" + count + " " + e);
            System.out.flush();
        }
    }

    static int sendClient(int port, int connections, int bytes, long seed) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(connections, 16));
        Random seeds = new Random(seed);
        Future<?>[] results = new Future<?>[connections];
        for (int i = 0; i < connections; i++) {
            long connSeed = seeds.nextLong();
            results[i] = pool.submit(() -> sendOne(port, bytes, new Random(connSeed)));
        }
        int ok = 0;
        StringBuilder bad = new StringBuilder();
        for (Future<?> f : results) {
            String r = (String) f.get(60, TimeUnit.SECONDS);
            if (r == null) ok++; else bad.append(r).append("; ");
        }
        pool.shutdown();
        if (bad.length() > 0) {
            System.out.println("MISMATCH " + bad);
            return 1;
        }
        System.out.println("OK " + ok);
        return 0;
    }

    private static String sendOne(int port, int bytes, Random rnd) throws Exception {
        byte[] payload = new byte[bytes];
        rnd.nextBytes(payload);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)) + " " + bytes;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            OutputStream out = s.getOutputStream();
            int off = 0;
            while (off < bytes) {
                int n = Math.min(bytes - off, rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(8) : 1 + rnd.nextInt(20_000));
                if (n == 1 && rnd.nextBoolean()) out.write(payload[off]); else out.write(payload, off, n);
                if (rnd.nextInt(10) == 0) out.write(payload, off, 0); // zero-length writes send nothing
                off += n;
            }
            s.shutdownOutput();
            String answer = new String(readAll(s.getInputStream()), StandardCharsets.US_ASCII).trim();
            return answer.equals(expected) ? null : "expected " + expected + " got '" + answer + "'";
        }
    }

    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf)) > 0) all.write(buf, 0, n);
        return all.toByteArray();
    }

    /** The deterministic body the http-server sends for a path: large enough to need many reads. */
    public static byte[] httpBody(String path) {
        Random r = new Random(path.hashCode());
        byte[] b = new byte[50_000 + r.nextInt(50_000)];
        r.nextBytes(b);
        return b;
    }

    static void httpServer() throws IOException {
        ServerSocket ss = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        System.out.println("PORT " + ss.getLocalPort());
        System.out.flush();
        while (true) {
            try (Socket s = ss.accept()) {
                InputStream in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                int ch;
                while ((ch = in.read()) >= 0) {
                    head.append((char) ch);
                    if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) break;
                }
                String path = head.toString().split(" ")[1];
                byte[] body = httpBody(path);
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + body.length
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
            } catch (Exception e) {
                System.out.println("CONN-ERROR " + e);
            }
        }
    }

    /** A non-blocking Selector server: random read sizes (sometimes scattering), the same answer as sink-server. */
    static void nioSinkServer(long seed) throws Exception {
        java.nio.channels.Selector sel = java.nio.channels.Selector.open();
        java.nio.channels.ServerSocketChannel ssc = java.nio.channels.ServerSocketChannel.open();
        ssc.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        ssc.configureBlocking(false);
        ssc.register(sel, java.nio.channels.SelectionKey.OP_ACCEPT);
        System.out.println("PORT " + ((java.net.InetSocketAddress) ssc.getLocalAddress()).getPort());
        System.out.flush();
        Random rnd = new Random(seed);
        java.util.Map<java.nio.channels.SocketChannel, Object[]> state = new java.util.HashMap<>();
        while (true) {
            sel.select(1000);
            for (java.nio.channels.SelectionKey k : sel.selectedKeys()) {
                if (k.isAcceptable()) {
                    java.nio.channels.SocketChannel sc = ssc.accept();
                    if (sc == null) continue;
                    sc.configureBlocking(false);
                    sc.register(sel, java.nio.channels.SelectionKey.OP_READ);
                    state.put(sc, new Object[] {MessageDigest.getInstance("SHA-256"), new long[1]});
                } else if (k.isReadable()) {
                    java.nio.channels.SocketChannel sc = (java.nio.channels.SocketChannel) k.channel();
                    Object[] st = state.get(sc);
                    MessageDigest sha = (MessageDigest) st[0];
                    long[] count = (long[]) st[1];
                    try {
                        long n;
                        if (rnd.nextBoolean()) {
                            java.nio.ByteBuffer b = rnd.nextBoolean() ? java.nio.ByteBuffer.allocate(1 + rnd.nextInt(30_000)) : java.nio.ByteBuffer.allocateDirect(1 + rnd.nextInt(100));
                            n = sc.read(b);
                            b.flip();
                            sha.update(b);
                        } else {
                            java.nio.ByteBuffer[] bs = {java.nio.ByteBuffer.allocate(1 + rnd.nextInt(50)), java.nio.ByteBuffer.allocate(1 + rnd.nextInt(20_000))};
                            n = sc.read(bs, 0, 2);
                            for (java.nio.ByteBuffer b : bs) { b.flip(); sha.update(b); }
                        }
                        if (n > 0) count[0] += n;
                        if (n < 0) {
                            k.cancel();
                            sc.configureBlocking(true);
                            String line = HexFormat.of().formatHex(sha.digest()) + " " + count[0] + "\n";
                            java.nio.ByteBuffer out = java.nio.ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
                            while (out.hasRemaining()) sc.write(out);
                            sc.close();
                            state.remove(sc);
                        }
                    } catch (IOException e) {
                        System.out.println("CONN-ERROR delivered=" + count[0] + " " + e);
                        System.out.flush();
                        k.cancel();
                        sc.close();
                    }
                }
            }
            sel.selectedKeys().clear();
        }
    }

    /** Non-blocking channels with a Selector: random write sizes, some gathering, partial writes retried. */
    static int nioSendClient(int port, int connections, int bytes, long seed) throws Exception {
        Random seeds = new Random(seed);
        int ok = 0;
        for (int c = 0; c < connections; c++) {
            Random rnd = new Random(seeds.nextLong());
            byte[] payload = new byte[bytes];
            rnd.nextBytes(payload);
            String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)) + " " + bytes;
            try (java.nio.channels.SocketChannel sc = java.nio.channels.SocketChannel.open();
                 java.nio.channels.Selector sel = java.nio.channels.Selector.open()) {
                sc.configureBlocking(false);
                if (!sc.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                    sc.register(sel, java.nio.channels.SelectionKey.OP_CONNECT);
                    while (!sc.finishConnect()) sel.select(1000);
                }
                java.nio.channels.SelectionKey key = sc.register(sel, java.nio.channels.SelectionKey.OP_WRITE);
                int off = 0;
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (off < bytes) {
                    if (System.nanoTime() > deadline) throw new IOException("write timed out");
                    int n = Math.min(bytes - off, 1 + rnd.nextInt(rnd.nextBoolean() ? 100 : 200_000));
                    long w;
                    if (rnd.nextInt(3) == 0 && n > 1) {
                        int half = n / 2;
                        w = sc.write(new java.nio.ByteBuffer[] {java.nio.ByteBuffer.wrap(payload, off, half), java.nio.ByteBuffer.wrap(payload, off + half, n - half)});
                    } else {
                        w = sc.write(java.nio.ByteBuffer.wrap(payload, off, n));
                    }
                    if (w < 0 || w > n) throw new IOException("write returned " + w + " for " + n + " bytes");
                    off += (int) w;
                    if (w < n) sel.select(1000); // socket buffer full: wait until writable
                    sel.selectedKeys().clear();
                }
                key.cancel();
                sc.shutdownOutput();
                sel.selectNow();
                sc.configureBlocking(true);
                byte[] answer = readAll(sc.socket().getInputStream());
                String got = new String(answer, StandardCharsets.US_ASCII).trim();
                if (got.equals(expected)) ok++;
                else { System.out.println("MISMATCH expected " + expected + " got '" + got + "'"); return 1; }
            }
        }
        System.out.println("OK " + ok);
        return 0;
    }

    /**
     * One connection per write path (non-blocking single and gathering channel writes, a blocking
     * channel, Socket streams, the socket adaptor stream), each sending {@code bytes} random bytes
     * in writes of 64-256 KB to a sink-server, then checking its digest. Prints "OK 5".
     */
    static int plainPathsClient(int port, int bytes, long seed) throws Exception {
        Random rnd = new Random(seed);
        java.net.InetSocketAddress to = new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        String[] paths = {"nio-nonblocking", "nio-gather-nonblocking", "nio-blocking", "socket", "adaptor"};
        for (String path : paths) {
            byte[] payload = new byte[bytes];
            rnd.nextBytes(payload);
            String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)) + " " + bytes;
            byte[] answer;
            if (path.equals("socket")) {
                try (Socket s = new Socket(to.getAddress(), port)) {
                    OutputStream out = s.getOutputStream();
                    for (int off = 0; off < bytes; ) {
                        int n = Math.min(bytes - off, 65_536 + rnd.nextInt(196_608));
                        out.write(payload, off, n);
                        off += n;
                    }
                    s.shutdownOutput();
                    answer = readAll(s.getInputStream());
                }
            } else {
                try (java.nio.channels.SocketChannel sc = java.nio.channels.SocketChannel.open(to);
                     java.nio.channels.Selector sel = java.nio.channels.Selector.open()) {
                    boolean nonBlocking = path.startsWith("nio-") && path.endsWith("nonblocking");
                    if (nonBlocking) {
                        sc.configureBlocking(false);
                        sc.register(sel, java.nio.channels.SelectionKey.OP_WRITE);
                    }
                    OutputStream adaptor = path.equals("adaptor") ? sc.socket().getOutputStream() : null;
                    long deadline = System.nanoTime() + 60_000_000_000L;
                    for (int off = 0; off < bytes; ) {
                        if (System.nanoTime() > deadline) throw new IOException("write timed out");
                        int n = Math.min(bytes - off, 65_536 + rnd.nextInt(196_608));
                        long w;
                        if (adaptor != null) {
                            adaptor.write(payload, off, n);
                            w = n;
                        } else if (path.contains("gather")) {
                            int half = n / 2;
                            w = sc.write(new ByteBuffer[] {ByteBuffer.wrap(payload, off, half), ByteBuffer.wrap(payload, off + half, n - half)});
                        } else {
                            w = sc.write(ByteBuffer.wrap(payload, off, n));
                        }
                        if (w < 0 || w > n) throw new IOException(path + ": write returned " + w + " for " + n + " bytes");
                        off += (int) w;
                        if (nonBlocking && w < n) {
                            sel.select(1000); // socket buffer full: wait until writable
                            sel.selectedKeys().clear();
                        }
                    }
                    if (nonBlocking) {
                        sc.keyFor(sel).cancel();
                        sel.selectNow();
                        sc.configureBlocking(true);
                    }
                    sc.shutdownOutput();
                    answer = readAll(sc.socket().getInputStream());
                }
            }
            String got = new String(answer, StandardCharsets.US_ASCII).trim();
            if (!got.equals(expected)) {
                System.out.println("MISMATCH " + path + ": expected " + expected + " got '" + got + "'");
                return 1;
            }
        }
        System.out.println("OK " + paths.length);
        return 0;
    }

    static void jdkHttpServer() throws IOException {
        com.sun.net.httpserver.HttpServer srv = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        srv.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            byte[] r = ("echo " + body.length + " " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, r.length);
            ex.getResponseBody().write(r);
            ex.close();
        });
        srv.start();
        System.out.println("PORT " + srv.getAddress().getPort());
        System.out.flush();
    }

    /** Many requests over one keep-alive HTTP/1.1 connection of the JDK HttpClient. */
    static int jdkHttpClient(int port, int requests) throws Exception {
        java.net.http.HttpClient c = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < requests; i++) {
            String path = "/r" + i;
            java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                    .timeout(java.time.Duration.ofSeconds(30)).GET().build();
            String body = c.send(req, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            if (!body.equals("echo 0 " + path)) { System.out.println("MISMATCH " + body); return 1; }
        }
        System.out.println("OK " + requests);
        return 0;
    }

    /** DatagramSocket: answers each datagram with "sha256hex length" of what it received. */
    static void udpServer() throws Exception {
        java.net.DatagramSocket ds = new java.net.DatagramSocket(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        System.out.println("PORT " + ds.getLocalPort());
        System.out.flush();
        byte[] buf = new byte[65_536];
        while (true) {
            java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
            ds.receive(p);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(p.getData(), p.getOffset(), p.getLength());
            byte[] answer = (HexFormat.of().formatHex(sha.digest()) + " " + p.getLength()).getBytes(StandardCharsets.US_ASCII);
            ds.send(new java.net.DatagramPacket(answer, answer.length, p.getSocketAddress()));
        }
    }

    /** DatagramChannel: random datagrams, each answer compared with the local digest. */
    static int udpClient(int port, int count, long seed) throws Exception {
        Random rnd = new Random(seed);
        try (java.nio.channels.DatagramChannel ch = java.nio.channels.DatagramChannel.open()) {
            ch.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            ch.socket().setSoTimeout(10_000);
            java.net.InetSocketAddress server = new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            for (int i = 0; i < count; i++) {
                byte[] d = new byte[1 + rnd.nextInt(rnd.nextBoolean() ? 100 : 60_000)];
                rnd.nextBytes(d);
                ByteBuffer src = ByteBuffer.wrap(d);
                int n = ch.send(src, server);
                if (n != d.length || src.hasRemaining()) { System.out.println("MISMATCH send returned " + n + " for " + d.length); return 1; }
                ByteBuffer answer = ByteBuffer.allocate(200);
                ch.receive(answer);
                answer.flip();
                String got = StandardCharsets.US_ASCII.decode(answer).toString();
                String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(d)) + " " + d.length;
                if (!got.equals(expected)) { System.out.println("MISMATCH expected " + expected + " got " + got); return 1; }
            }
        }
        System.out.println("OK " + count);
        return 0;
    }

    /** FileChannel.transferTo a SocketChannel (sendfile in the JDK), answer compared like send-client. */
    static int transferClient(int port, int bytes, long seed) throws Exception {
        byte[] payload = new byte[bytes];
        new Random(seed).nextBytes(payload);
        java.nio.file.Path file = java.nio.file.Files.createTempFile("transfer", ".bin");
        try {
            java.nio.file.Files.write(file, payload);
            String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)) + " " + bytes;
            try (java.nio.channels.FileChannel fc = java.nio.channels.FileChannel.open(file);
                 java.nio.channels.SocketChannel sc = java.nio.channels.SocketChannel.open(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                long pos = 0;
                while (pos < bytes) pos += fc.transferTo(pos, bytes - pos, sc);
                sc.shutdownOutput();
                String got = new String(readAll(sc.socket().getInputStream()), StandardCharsets.US_ASCII).trim();
                if (!got.equals(expected)) { System.out.println("MISMATCH expected " + expected + " got '" + got + "'"); return 1; }
            }
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
        System.out.println("OK 1");
        return 0;
    }

    /** JDBC over H2's own TCP protocol: rows with random text written and read back. */
    static int h2Client(int port, int rows) throws Exception {
        Random rnd = new Random(rows);
        String[] values = new String[rows];
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:h2:tcp://127.0.0.1:" + port + "/mem:hta", "sa", "")) {
            try (java.sql.Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t(id INT PRIMARY KEY, v VARCHAR(100000))");
            }
            try (java.sql.PreparedStatement ins = c.prepareStatement("INSERT INTO t VALUES (?, ?)")) {
                for (int i = 0; i < rows; i++) {
                    StringBuilder v = new StringBuilder();
                    int len = rnd.nextInt(rnd.nextBoolean() ? 20 : 50_000);
                    for (int k = 0; k < len; k++) v.append((char) ('a' + rnd.nextInt(26)));
                    values[i] = v.toString();
                    ins.setInt(1, i);
                    ins.setString(2, values[i]);
                    ins.executeUpdate();
                }
            }
            try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery("SELECT id, v FROM t ORDER BY id")) {
                int n = 0;
                while (rs.next()) {
                    if (!values[rs.getInt(1)].equals(rs.getString(2))) { System.out.println("MISMATCH row " + rs.getInt(1)); return 1; }
                    n++;
                }
                if (n != rows) { System.out.println("MISMATCH rows " + n); return 1; }
            }
        }
        System.out.println("OK " + rows);
        return 0;
    }

    private static javax.net.ssl.SSLContext tls(String keystore) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of(keystore))) {
            ks.load(in, "secret".toCharArray());
        }
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, "secret".toCharArray());
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /** TLS sink: the sink-server protocol over SSLServerSocket. */
    static void tlsServer(String keystore) throws Exception {
        javax.net.ssl.SSLServerSocket ss = (javax.net.ssl.SSLServerSocket) tls(keystore).getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        System.out.println("PORT " + ss.getLocalPort());
        System.out.flush();
        Random seeds = new Random(1);
        while (true) {
            Socket s = ss.accept();
            long connSeed = seeds.nextLong();
            Thread t = new Thread(() -> sink(s, new Random(connSeed)));
            t.setDaemon(true);
            t.start();
        }
    }

    static int tlsClient(int port, String keystore) throws Exception {
        Random rnd = new Random(77);
        byte[] payload = new byte[200_000];
        rnd.nextBytes(payload);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)) + " " + payload.length;
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls(keystore).getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
            OutputStream out = s.getOutputStream();
            for (int off = 0; off < payload.length; ) {
                int n = Math.min(payload.length - off, 1 + rnd.nextInt(30_000));
                out.write(payload, off, n);
                off += n;
            }
            out.flush();
            // TLS has no half-close: the sink answers at EOF, so send the digest request in-band is not
            // possible; close the write side of the TLS session instead
            s.shutdownOutput();
            String got = new String(readAll(s.getInputStream()), StandardCharsets.US_ASCII).trim();
            if (!got.equals(expected)) { System.out.println("MISMATCH expected " + expected + " got '" + got + "'"); return 1; }
        }
        System.out.println("OK 1");
        return 0;
    }
}
