package io.hlctrace.agent;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * UDP, for DatagramChannel and DatagramSocket alike (both end in sun.nio.ch.DatagramChannelImpl's
 * private send(FileDescriptor, ByteBuffer, InetSocketAddress) and receive(ByteBuffer, boolean)):
 * one header per datagram, sent only to instrumented peers; a received datagram is framed only if it
 * starts with a valid header whose length is exactly the rest of the datagram.
 */
public final class UdpHooks {
    /** Largest UDP payload over IPv4. */
    private static final int MAX_DATAGRAM = 65_507;
    static volatile MethodHandle decodeSource; // NativeSocketAddress.decode()

    private UdpHooks() {}

    static void init(Class<?> nativeSocketAddress) throws ReflectiveOperationException {
        MethodHandles.Lookup l = MethodHandles.privateLookupIn(nativeSocketAddress, MethodHandles.lookup());
        decodeSource = l.findVirtual(nativeSocketAddress, "decode", MethodType.methodType(InetSocketAddress.class));
    }

    private static String local(DatagramChannel ch) {
        try {
            SocketAddress a = ch.getLocalAddress();
            return a instanceof InetSocketAddress i ? TcpConnection.format(i) : "?";
        } catch (IOException e) {
            return "?";
        }
    }

    private static EventLog.UdpEndpoint endpoint(DatagramChannel ch, InetSocketAddress remote) {
        return new EventLog.UdpEndpoint(local(ch), TcpConnection.format(remote));
    }

    /** One datagram on its way out: stamped before it can leave, logged once the kernel took it. */
    public static final class UdpSend {
        final Stamper.PendingSend pending = new Stamper.PendingSend();
        /** The application's buffer when a framed copy goes out instead; null when sent as it is. */
        ByteBuffer original;
        ByteBuffer framed;
        int payload;

    }

    /** What DatagramChannelImpl.send sends: the framed copy, or the application's buffer. */
    public static ByteBuffer buffer(UdpSend s, ByteBuffer src) {
        return s != null && s.framed != null ? s.framed : src;
    }

    /** Before a datagram goes out: stamps it; the state to pass to {@link #sent}, or null when off. */
    public static UdpSend frame(DatagramChannel ch, ByteBuffer src, InetSocketAddress target) {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null || target == null || target.getAddress() == null) return null;
        try {
            int len = src.remaining();
            AgentConfig.PortMode mode = rt.config.modeFor(target.getPort());
            boolean framed = mode != AgentConfig.PortMode.PLAIN && len > 0 && len + Frame.HEADER_SIZE <= MAX_DATAGRAM
                    && (mode == AgentConfig.PortMode.FRAMED || rt.udpPeerInstrumented(target.getAddress(), target.getPort()));
            UdpSend s = new UdpSend();
            s.payload = len;
            rt.stamper.claimSend(endpoint(ch, target), framed, s.pending);
            if (framed) {
                byte[] b = new byte[Frame.HEADER_SIZE + len];
                Frame.writeHeader(b, 0, s.pending.hlc, s.pending.msg, len);
                src.get(src.position(), b, Frame.HEADER_SIZE, len);
                s.original = src;
                s.framed = ByteBuffer.wrap(b);
            }
            return s;
        } catch (RuntimeException e) {
            Agent.internalError("UDP send", e);
            return null;
        }
    }

    /**
     * After the send (also when it threw, with n = 0): logs the datagram if the kernel took it, and
     * for a framed copy advances the application's buffer and returns payload bytes only.
     */
    public static int sent(UdpSend s, int n) {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null || s == null) return n;
        if (n <= 0) {
            rt.stamper.notSent(s.pending); // would block (or failed): nothing went out
            return n;
        }
        rt.stamper.sent(s.pending, s.payload, -1);
        if (s.original == null) return n;
        int payload = Math.max(0, n - Frame.HEADER_SIZE);
        s.original.position(s.original.position() + payload);
        return payload;
    }

    /** Before a receive: a buffer with room for a header too, or dst itself to receive into it directly. */
    public static ByteBuffer receiveBuffer(ByteBuffer dst) {
        if (SocketHooks.runtime == null || NioHooks.bypass()) return dst;
        return ByteBuffer.allocate(dst.remaining() + Frame.HEADER_SIZE);
    }

    /** After a receive into {@code tmp}: strips a valid header, merges, copies the payload into dst. */
    public static int received(DatagramChannel ch, ByteBuffer dst, ByteBuffer tmp, int n, Object sourceSockAddr) {
        if (tmp == dst || n < 0) return n; // received directly, or IOStatus: nothing received
        AgentRuntime rt = SocketHooks.runtime;
        byte[] b = tmp.array();
        InetSocketAddress from = null;
        try {
            MethodHandle d = decodeSource;
            if (d != null && sourceSockAddr != null) from = (InetSocketAddress) d.invoke(sourceSockAddr);
        } catch (Throwable t) {
            // the address is only for the log
        }
        boolean framed = n > Frame.HEADER_SIZE && Frame.validate(b, 0) == null && Frame.payloadLength(b, 0) == n - Frame.HEADER_SIZE;
        int from0 = framed ? Frame.HEADER_SIZE : 0;
        int payload = n - from0;
        int copied = Math.min(payload, dst.remaining());
        dst.put(b, from0, copied);
        if (rt != null) {
            EventLog.UdpEndpoint ep = endpoint(ch, from);
            if (framed) rt.stamper.receive(ep, Frame.hlc(b, 0), Frame.msgId(b, 0), payload, -1, new Stamper.PendingSend());
            else rt.stamper.plainReceive(ep, payload, -1, new Stamper.PendingSend());
        }
        return copied;
    }

    public static void bound(DatagramChannel ch) {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null || rt.registry == null) return;
        try {
            SocketAddress a = ch.getLocalAddress();
            if (a instanceof InetSocketAddress i && i.getPort() > 0 && rt.config.modeFor(i.getPort()) != AgentConfig.PortMode.PLAIN) {
                rt.registry.registerUdp(i.getPort());
            }
        } catch (IOException ignored) {
            // not bound
        }
    }
}
