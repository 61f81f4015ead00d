package io.hlctrace.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The static entry points of the calls woven into java.net classes ({@link HookTable}). This class and
 * everything it reaches live on the bootstrap class path. Each method returns "not handled" while
 * the agent is not running, and then the JDK's own code runs unchanged.
 */
public final class SocketHooks {
    /** Added to a handled call's result so that 0 can mean "not handled" (HookTable's {@code skip}). */
    public static final long HANDLED = 2;

    static volatile AgentRuntime runtime;

    private SocketHooks() {}

    /** Returns 0 when not handled, else result + HANDLED. */
    public static long read(Socket parent, InputStream in, byte[] b, int off, int len) throws IOException {
        AgentRuntime rt = runtime;
        if (rt == null || parent == null) return 0;
        return rt.connection(parent).read(in, b, off, len) + HANDLED;
    }

    /** Returns false when not handled. */
    public static boolean write(Socket parent, OutputStream out, byte[] b, int off, int len) throws IOException {
        AgentRuntime rt = runtime;
        if (rt == null || parent == null) return false;
        rt.connection(parent).write(out, b, off, len);
        return true;
    }

    public static long available(Socket parent, InputStream in) throws IOException {
        AgentRuntime rt = runtime;
        if (rt == null || parent == null) return 0;
        return rt.connection(parent).available(in) + HANDLED;
    }

    public static void connected(Socket s) {
        AgentRuntime rt = runtime;
        if (rt == null || s == null) return;
        try {
            rt.remove(s); // a reconnect is a new connection
            TcpConnection c = rt.newConnection(s, false, false);
            rt.stamper.lifecycle(EventLog.CONNECT, c);
        } catch (RuntimeException e) {
            Agent.internalError("connect", e);
        }
    }

    public static void accepted(Socket s) {
        AgentRuntime rt = runtime;
        if (rt == null || s == null) return;
        try {
            TcpConnection c = rt.newConnection(s, true, false);
            rt.stamper.lifecycle(EventLog.ACCEPT, c);
        } catch (RuntimeException e) {
            Agent.internalError("accept", e);
        }
    }

    public static void closed(Socket s) {
        AgentRuntime rt = runtime;
        if (rt == null || s == null) return;
        TcpConnection c = rt.remove(s);
        if (c != null) rt.stamper.lifecycle(EventLog.CLOSE, c);
    }

    public static void bound(ServerSocket ss) {
        AgentRuntime rt = runtime;
        if (rt == null || rt.registry == null || ss == null) return;
        int port = ss.getLocalPort();
        if (port > 0 && rt.config.modeFor(port) != AgentConfig.PortMode.PLAIN) rt.registry.register(port);
    }

    public static void serverClosed(ServerSocket ss) {
        AgentRuntime rt = runtime;
        if (rt == null || rt.registry == null || ss == null) return;
        int port = ss.getLocalPort();
        if (port > 0) rt.registry.unregister(port);
    }

    public static void uncovered(String api) {
        if (runtime != null) Agent.warnUncovered(api);
    }
}
