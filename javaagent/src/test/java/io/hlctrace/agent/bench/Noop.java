package io.hlctrace.agent.bench;

/** Start-up time probe: a JVM that opens one loopback connection and exits. */
public final class Noop {
    public static void main(String[] args) throws Exception {
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             java.net.Socket c = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), ss.getLocalPort());
             java.net.Socket s = ss.accept()) {
            c.getOutputStream().write(1);
            if (s.getInputStream().read() != 1) throw new IllegalStateException("byte lost");
        }
    }
}
