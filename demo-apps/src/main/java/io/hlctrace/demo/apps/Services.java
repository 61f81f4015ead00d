package io.hlctrace.demo.apps;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The demo's services: ordinary programs that know nothing of hlctrace (the agent instruments them
 * from outside). Each server prints {@code PORT n} once it listens; the client prints
 * {@code DONE requests failures}.
 *
 * <ul>
 * <li>{@code http-service [BACKEND_ADDR]}: an HTTP/1.1 service on java.net sockets, keeping connections alive, answering
 * {@code /item?id=N} (asking the HTTP service at BACKEND_ADDR first, when given).</li>
 * <li>{@code raw-service}: a raw TCP request/response service over NIO (one Selector, non-blocking):
 * {@code GET key\n} is answered by {@code VAL key payload\n}.</li>
 * <li>{@code gateway RAW_ADDR HTTP_ADDR}: an HTTP gateway; each {@code /order?id=N} calls the raw
 * service over kept-alive NIO SocketChannels and the HTTP service through HttpURLConnection (kept
 * alive by the JDK's connection cache), then answers.</li>
 * <li>{@code client GATEWAY_ADDR REQUESTS SEED}: HttpURLConnection requests to the gateway from two threads, kept alive.</li>
 * </ul>
 */
public final class Services {
    private Services() {}

    public static void main(String[] args) throws Exception {
        switch (args.length == 0 ? "" : args[0]) {
            case "http-service" -> httpService(args.length > 1 ? args[1] : null);
            case "raw-service" -> rawService();
            case "gateway" -> gateway(args[1], args[2]);
            case "client" -> System.exit(client(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3])));
            default -> {
                System.err.println("usage: Services http-service [BACKEND_ADDR] | raw-service | gateway RAW_ADDR HTTP_ADDR | client GATEWAY_ADDR REQUESTS SEED (ADDR: host:port or a loopback port)");
                System.exit(2);
            }
        }
    }

    private static void announce(int port) {
        System.out.println("PORT " + port);
        System.out.flush();
    }

    /**
     * Where servers listen: the loopback by default; all addresses of the network namespace when the
     * demo runs executors as namespaces ({@code -Dhlctrace.demo.bind=any}).
     */
    static InetAddress bindAddress() throws IOException {
        return "any".equals(System.getProperty("hlctrace.demo.bind")) ? InetAddress.getByName("0.0.0.0") : InetAddress.getLoopbackAddress();
    }

    /** "host:port", or a bare port on the loopback. */
    static InetSocketAddress address(String hostPort) {
        int k = hostPort.lastIndexOf(':');
        return k < 0 ? new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(hostPort))
                : new InetSocketAddress(hostPort.substring(0, k), Integer.parseInt(hostPort.substring(k + 1)));
    }

    static String hostPort(String hostPort) {
        InetSocketAddress a = address(hostPort);
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** A handler of one GET path-and-query, returning the body. */
    interface Handler {
        String handle(String target) throws Exception;
    }

    /**
     * A small blocking HTTP/1.1 server on java.net.ServerSocket, a thread per connection, keeping
     * connections alive: enough HTTP for the demo, and on the socket API every JDK client and
     * server shares.
     */
    static int httpServer(Handler handler) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, bindAddress());
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serveHttp(s, handler), "http-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "http-accept");
        acceptor.start();
        return server.getLocalPort();
    }

    private static void serveHttp(Socket s, Handler handler) {
        try (s; BufferedInputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            while (true) {
                String requestLine = readLine(in);
                if (requestLine == null) return;
                boolean close = false;
                for (String h; (h = readLine(in)) != null && !h.isEmpty(); ) {
                    if (h.toLowerCase(java.util.Locale.ROOT).startsWith("connection:") && h.toLowerCase(java.util.Locale.ROOT).contains("close")) close = true;
                }
                String[] parts = requestLine.split(" ");
                int status = 200;
                String body;
                try {
                    body = parts.length >= 2 && parts[0].equals("GET") ? handler.handle(parts[1]) : null;
                    if (body == null) {
                        status = 400;
                        body = "bad request: " + requestLine;
                    }
                } catch (Exception e) {
                    status = 502;
                    body = "backend failed: " + e;
                }
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                String head = "HTTP/1.1 " + status + (status == 200 ? " OK" : " Error") + "\r\nContent-Type: text/plain\r\nContent-Length: " + b.length
                        + (close ? "\r\nConnection: close" : "") + "\r\n\r\n";
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.write(b);
                out.flush();
                if (close) return;
            }
        } catch (IOException e) {
            // the peer went away: nothing to answer
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') sb.setLength(n - 1);
                return sb.toString();
            }
            sb.append((char) c);
            if (sb.length() > 8192) throw new IOException("HTTP line too long");
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /** GET through HttpURLConnection, which keeps connections alive in the JDK's cache when the body is read fully. */
    static String get(String url) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(10_000);
        int code = c.getResponseCode();
        try (InputStream in = code < 400 ? c.getInputStream() : c.getErrorStream()) {
            String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (code != 200) throw new IOException("HTTP " + code + " from " + url + ": " + body);
            return body;
        }
    }

    /** With a backend address, each item also asks that HTTP service (the python3 one behind the probe). */
    static void httpService(String backend) throws IOException {
        String via = backend == null ? null : hostPort(backend);
        announce(httpServer(target -> {
            if (!target.startsWith("/item?")) return null;
            String extra = via == null ? "" : " " + get("http://" + via + "/py?" + target.substring(6)).length();
            return "item " + target.substring(6) + extra + " " + "x".repeat(200);
        }));
    }

    static void rawService() throws IOException {
        Selector selector = Selector.open();
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(bindAddress(), 0));
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        announce(((InetSocketAddress) server.getLocalAddress()).getPort());
        while (true) {
            selector.select();
            Iterator<SelectionKey> it = selector.selectedKeys().iterator();
            while (it.hasNext()) {
                SelectionKey k = it.next();
                it.remove();
                if (!k.isValid()) continue;
                if (k.isAcceptable()) {
                    SocketChannel c = server.accept();
                    if (c == null) continue;
                    c.configureBlocking(false);
                    c.register(selector, SelectionKey.OP_READ, new StringBuilder());
                } else if (k.isReadable()) {
                    serveRaw(k);
                }
            }
        }
    }

    private static void serveRaw(SelectionKey k) {
        SocketChannel c = (SocketChannel) k.channel();
        StringBuilder pending = (StringBuilder) k.attachment();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try {
            int n = c.read(buf);
            if (n < 0) {
                k.cancel();
                c.close();
                return;
            }
            pending.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
            int nl;
            while ((nl = pending.indexOf("\n")) >= 0) {
                String line = pending.substring(0, nl);
                pending.delete(0, nl + 1);
                String key = line.startsWith("GET ") ? line.substring(4) : "?";
                ByteBuffer out = ByteBuffer.wrap(("VAL " + key + " " + "v".repeat(100) + "\n").getBytes(StandardCharsets.UTF_8));
                // small answers on loopback: a non-blocking write of them completes, but loop to be sure
                while (out.hasRemaining()) c.write(out);
            }
        } catch (IOException e) {
            k.cancel();
            try { c.close(); } catch (IOException ignored) { /* already broken */ }
        }
    }

    /** Kept-alive connections to the raw service, one per gateway worker at a time. */
    private static final class RawPool {
        private final BlockingQueue<SocketChannel> idle = new ArrayBlockingQueue<>(8);
        private final InetSocketAddress address;

        RawPool(InetSocketAddress address) { this.address = address; }

        String call(String key) throws IOException, InterruptedException {
            SocketChannel c = idle.poll();
            if (c == null) c = SocketChannel.open(address);
            try {
                c.write(ByteBuffer.wrap(("GET " + key + "\n").getBytes(StandardCharsets.UTF_8)));
                ByteBuffer buf = ByteBuffer.allocate(4096);
                StringBuilder sb = new StringBuilder();
                while (sb.indexOf("\n") < 0) {
                    buf.clear();
                    if (c.read(buf) < 0) throw new IOException("raw service closed the connection");
                    sb.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
                }
                if (!idle.offer(c)) c.close();
                return sb.substring(0, sb.indexOf("\n"));
            } catch (IOException e) {
                c.close();
                throw e;
            }
        }
    }

    static void gateway(String rawService, String httpService) throws IOException {
        RawPool raw = new RawPool(address(rawService));
        String http = hostPort(httpService);
        announce(httpServer(target -> {
            if (!target.startsWith("/order?")) return null;
            String id = target.substring(7);
            String stock = raw.call("stock-" + id);
            String item = get("http://" + http + "/item?" + id);
            return "order " + id + ": " + stock.length() + " " + item.length();
        }));
    }

    /** Two client threads, so requests overlap and the services see concurrent work (events no message links). */
    static int client(String gatewayAddress, int requests, long seed) throws InterruptedException {
        int threads = 2;
        String gateway = hostPort(gatewayAddress);
        java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int first = t;
            Random r = new Random(seed + t);
            Thread w = new Thread(() -> {
                for (int i = first; i < requests; i += threads) {
                    try {
                        get("http://" + gateway + "/order?id=" + i);
                    } catch (IOException e) {
                        failures.incrementAndGet();
                        System.err.println("request " + i + " failed: " + e);
                    }
                    try {
                        Thread.sleep(5 + r.nextInt(30));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "client-" + t);
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) w.join(120_000);
        System.out.println("DONE " + requests + " " + failures.get());
        System.out.flush();
        return failures.get() == 0 ? 0 : 1;
    }
}
