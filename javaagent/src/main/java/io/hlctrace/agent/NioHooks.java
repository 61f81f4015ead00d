package io.hlctrace.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Entry points of the calls woven into sun.nio.ch.SocketChannelImpl, ServerSocketChannelImpl and
 * FileChannelImpl ({@link HookTable}).
 * The agent's own raw reads and writes go through the same public methods with a per-thread bypass
 * mark, so the hooks let them through to the JDK's code.
 */
public final class NioHooks {
    public static final long HANDLED = SocketHooks.HANDLED;

    static volatile MethodHandle blockingRead;   // SocketChannelImpl.blockingRead(byte[],int,int,long)
    static volatile MethodHandle blockingWrite;  // SocketChannelImpl.blockingWriteFully(byte[],int,int)

    private NioHooks() {}

    /** True while the agent itself does I/O on a channel: the hook must let the call through. */
    public static boolean bypass() {
        return AgentRuntime.IO.get().bypass;
    }

    static void initAdaptorHandles(Class<?> impl) throws ReflectiveOperationException {
        MethodHandles.Lookup l = MethodHandles.privateLookupIn(impl, MethodHandles.lookup());
        blockingRead = l.findVirtual(impl, "blockingRead", MethodType.methodType(int.class, byte[].class, int.class, int.class, long.class));
        blockingWrite = l.findVirtual(impl, "blockingWriteFully", MethodType.methodType(void.class, byte[].class, int.class, int.class));
    }

    private static final class Raw implements TcpConnection.RawChannel {
        final SocketChannel ch;

        Raw(SocketChannel ch) { this.ch = ch; }

        @Override
        public int read(ByteBuffer dst, AgentRuntime.IoState io) throws IOException {
            io.bypass = true;
            try {
                return ch.read(dst);
            } finally {
                io.bypass = false;
            }
        }

        @Override
        public long write(ByteBuffer[] srcs, AgentRuntime.IoState io) throws IOException {
            io.bypass = true;
            try {
                return srcs.length == 1 ? ch.write(srcs[0]) : ch.write(srcs);
            } finally {
                io.bypass = false;
            }
        }

        @Override
        public boolean blocking() { return ch.isBlocking(); }
    }

    private static TcpConnection connection(AgentRuntime rt, SocketChannel ch, AgentRuntime.IoState io) {
        TcpConnection c = rt.connectionOf(ch, io);
        // connect, finishConnect, blockingConnect and accept are hooked: a channel first seen here
        // was connected before the agent attached, and stays plain
        if (c == null) c = rt.newChannelConnection(ch, local(ch), remote(ch), false, true);
        if (c.raw == null) c.raw = new Raw(ch);
        return c;
    }

    private static TcpConnection connection(AgentRuntime rt, SocketChannel ch) {
        return connection(rt, ch, AgentRuntime.IO.get());
    }

    static InetSocketAddress local(SocketChannel ch) {
        try {
            SocketAddress a = ch.getLocalAddress();
            return a instanceof InetSocketAddress i ? i : null;
        } catch (IOException e) {
            return null;
        }
    }

    static InetSocketAddress remote(SocketChannel ch) {
        try {
            SocketAddress a = ch.getRemoteAddress();
            return a instanceof InetSocketAddress i ? i : null;
        } catch (IOException e) {
            return null;
        }
    }

    // The channel hooks below take the thread's IoState once: the bypass mark (the agent's own raw
    // call re-enters them) and the thread's last connection.

    /** read(ByteBuffer[],int,int): 0 = not handled, else result + HANDLED. */
    public static long read(SocketChannel ch, ByteBuffer[] dsts, int offset, int length) throws IOException {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null) return 0;
        AgentRuntime.IoState io = AgentRuntime.IO.get();
        if (io.bypass || !ch.isConnected()) return 0;
        TcpConnection c = connection(rt, ch, io);
        return c.nioRead(c.raw, dsts, offset, length, io) + HANDLED;
    }

    /** read(ByteBuffer): 0 = not handled, else result + HANDLED. */
    public static long read(SocketChannel ch, ByteBuffer dst) throws IOException {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null) return 0;
        AgentRuntime.IoState io = AgentRuntime.IO.get();
        if (io.bypass || !ch.isConnected()) return 0;
        TcpConnection c = connection(rt, ch, io);
        return c.nioRead(c.raw, dst, io) + HANDLED;
    }

    /** write(ByteBuffer): 0 = not handled, else result + HANDLED. */
    public static long write(SocketChannel ch, ByteBuffer src) throws IOException {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null) return 0;
        AgentRuntime.IoState io = AgentRuntime.IO.get();
        if (io.bypass || !ch.isConnected()) return 0;
        TcpConnection c = connection(rt, ch, io);
        return c.nioWrite(c.raw, src, io) + HANDLED;
    }

    public static long write(SocketChannel ch, ByteBuffer[] srcs, int offset, int length) throws IOException {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null) return 0;
        AgentRuntime.IoState io = AgentRuntime.IO.get();
        if (io.bypass || !ch.isConnected()) return 0;
        TcpConnection c = connection(rt, ch, io);
        return c.nioWrite(c.raw, srcs, offset, length, io) + HANDLED;
    }

    /** The socket adaptor's blocking read (SocketChannel.socket().getInputStream()). */
    public static long adaptorRead(SocketChannel ch, byte[] b, int off, int len, long nanos) throws IOException {
        AgentRuntime rt = SocketHooks.runtime;
        MethodHandle h = blockingRead;
        if (rt == null || h == null || bypass()) return 0;
        InputStream raw = new InputStream() {
            @Override
            public int read() { throw new UnsupportedOperationException(); }

            @Override
            public int read(byte[] buf, int o, int n) throws IOException {
                AgentRuntime.IoState flag = AgentRuntime.IO.get();
                flag.bypass = true;
                try {
                    return (int) h.invoke(ch, buf, o, n, nanos);
                } catch (IOException | RuntimeException | Error e) {
                    throw e;
                } catch (Throwable t) {
                    throw new IOException(t);
                } finally {
                    flag.bypass = false;
                }
            }
        };
        return connection(rt, ch).read(raw, b, off, len) + HANDLED;
    }

    public static boolean adaptorWrite(SocketChannel ch, byte[] b, int off, int len) throws IOException {
        AgentRuntime rt = SocketHooks.runtime;
        MethodHandle h = blockingWrite;
        if (rt == null || h == null || bypass()) return false;
        OutputStream raw = new OutputStream() {
            @Override
            public void write(int x) { throw new UnsupportedOperationException(); }

            @Override
            public void write(byte[] buf, int o, int n) throws IOException {
                AgentRuntime.IoState flag = AgentRuntime.IO.get();
                flag.bypass = true;
                try {
                    h.invoke(ch, buf, o, n);
                } catch (IOException | RuntimeException | Error e) {
                    throw e;
                } catch (Throwable t) {
                    throw new IOException(t);
                } finally {
                    flag.bypass = false;
                }
            }
        };
        connection(rt, ch).write(raw, b, off, len);
        return true;
    }

    /** The 4-argument constructor makes the channels that ServerSocketChannel.accept returns. */
    public static void accepted(SocketChannel ch) {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null) return;
        try {
            TcpConnection c = rt.newChannelConnection(ch, local(ch), remote(ch), true, false);
            rt.stamper.lifecycle(EventLog.ACCEPT, c);
        } catch (RuntimeException e) {
            Agent.internalError("channel accept", e);
        }
    }

    public static void connected(SocketChannel ch, boolean done) {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null || !done || rt.connectionOf(ch) != null) return;
        try {
            TcpConnection c = rt.newChannelConnection(ch, local(ch), remote(ch), false, false);
            rt.stamper.lifecycle(EventLog.CONNECT, c);
        } catch (RuntimeException e) {
            Agent.internalError("channel connect", e);
        }
    }

    /** The socket adaptor's connect (blockingConnect): connected when it returns. */
    public static void connected(SocketChannel ch) {
        connected(ch, true);
    }

    public static void closed(SocketChannel ch) {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null) return;
        TcpConnection c = rt.removeChannel(ch);
        if (c != null) rt.stamper.lifecycle(EventLog.CLOSE, c);
    }

    public static void bound(ServerSocketChannel ch) {
        AgentRuntime rt = SocketHooks.runtime;
        if (rt == null || rt.registry == null) return;
        try {
            SocketAddress a = ch.getLocalAddress();
            if (a instanceof InetSocketAddress i && i.getPort() > 0 && rt.config.modeFor(i.getPort()) != AgentConfig.PortMode.PLAIN) {
                rt.registry.register(i.getPort());
            }
        } catch (IOException ignored) {
            // not bound after all
        }
    }

    private static final int TRANSFER_CHUNK = 65536;

    /** FileChannel.transferTo(position, count, socket channel) through the hooked write; 0 = not handled. */
    public static long transferTo(java.nio.channels.FileChannel file, long position, long count, java.nio.channels.WritableByteChannel target)
            throws IOException {
        if (SocketHooks.runtime == null || bypass() || !(target instanceof SocketChannel ch) || !ch.isConnected()) return 0;
        if (position < 0 || count < 0) throw new IllegalArgumentException("negative position or count");
        long size = file.size();
        if (position > size) return HANDLED;
        long end = position + Math.min(count, size - position);
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(TRANSFER_CHUNK, Math.max(1, end - position)));
        long done = 0;
        while (position + done < end) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), end - position - done));
            int n = file.read(buf, position + done);
            if (n <= 0) break;
            buf.flip();
            int w = ch.write(buf); // hooked: framed or logged like any application write
            done += w;
            if (w < n) break; // non-blocking channel full: like transferTo, report what went
        }
        return done + HANDLED;
    }

    /** FileChannel.transferFrom(socket channel, position, count) through the hooked read; 0 = not handled. */
    public static long transferFrom(java.nio.channels.FileChannel file, java.nio.channels.ReadableByteChannel src, long position, long count)
            throws IOException {
        if (SocketHooks.runtime == null || bypass() || !(src instanceof SocketChannel ch) || !ch.isConnected()) return 0;
        if (position < 0 || count < 0) throw new IllegalArgumentException("negative position or count");
        if (position > file.size()) return HANDLED;
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(TRANSFER_CHUNK, Math.max(1, count)));
        long done = 0;
        while (done < count) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), count - done));
            int n = ch.read(buf); // hooked: header stripped, clock merged
            if (n <= 0) break;
            buf.flip();
            while (buf.hasRemaining()) done += file.write(buf, position + done);
            if (!ch.isBlocking()) break; // one read per call keeps a non-blocking transfer from waiting
        }
        return done + HANDLED;
    }
}
