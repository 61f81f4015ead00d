package io.hlctrace.probe;

import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;

/**
 * The JVM side of CrossPathCausalityTest, run in a child JVM with the real agent: one long-lived
 * java.net.Socket connection to an echo server, N messages of 1-3000 bytes, each read back in
 * full (and checked) before the next. Socket streams, because the agent stamps a Socket send
 * before the bytes reach the kernel.
 */
public final class PlainSocketPingPong {
    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 10_000);
            s.setSoTimeout(20_000);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            InputStream in = new DataInputStream(s.getInputStream());
            for (int i = 0; i < n; i++) {
                byte[] msg = new byte[1 + (i * 37) % 3000];
                Arrays.fill(msg, (byte) i);
                out.write(msg);
                byte[] back = new byte[msg.length];
                ((DataInputStream) in).readFully(back);
                if (!Arrays.equals(msg, back)) throw new IllegalStateException("echo of message " + i + " differs");
            }
        }
        System.out.println("done " + n);
    }
}
