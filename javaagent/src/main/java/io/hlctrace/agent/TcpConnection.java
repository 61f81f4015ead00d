package io.hlctrace.agent;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The agent's state of one TCP connection: how each direction is carried (framed or plain), the
 * partly received frame, and the byte offsets of each direction for the event log.
 *
 * <p>Receiving: the first bytes of the incoming direction decide. If they are a complete, valid
 * frame header the direction is framed for the rest of the connection; if any of the first 8 bytes
 * differs from the header's fixed signature the direction is plain and every byte is delivered
 * as it came. Sending: framed only when the peer is known to be instrumented (client: config
 * {@code peers}, the executor's port registry, or the port mode; accepted side: only after the
 * client's first bytes showed the signature). The choice is made once, at the first write.
 */
public final class TcpConnection {
    static final int UNDECIDED = 0;
    static final int FRAMED = 1;
    static final int PLAIN = 2;

    /** Reads at least this long go straight into the caller's array when nothing is buffered. */
    private static final int DIRECT_READ = 8192;
    private static final int IN_BUFFER = 16384;
    /** One write carries the header and up to 64 KiB of payload; larger writes send the rest directly. */
    private static final int OUT_BUFFER = 65536 + Frame.HEADER_SIZE;

    final String proto = "tcp";
    final String local;
    final String remote;
    final boolean accepted;
    /** Set once the connection left the runtime's map (closed or reconnected). */
    volatile boolean removed;
    /** The event log's rendering of this connection (UTF-8); written and read by the log's writer thread only. */
    byte[] connJson;
    private final boolean peerInstrumented;
    private final AgentConfig.PortMode portMode;
    private final AgentRuntime rt;

    // receiving side, guarded by inLock
    private final Object inLock = new Object();
    volatile int inMode;
    private byte[] inBuf;
    private int inPos;
    private int inLim;
    private int remaining;
    private long inOffset;
    /** The receive's stamp (its HLC, whether refused): reused, so a receive allocates nothing. */
    private final Stamper.PendingSend inStamp = new Stamper.PendingSend();

    // sending side, guarded by outLock
    private final Object outLock = new Object();
    volatile int outMode;
    private byte[] outBuf;
    private long outOffset;
    private final Stamper.PendingSend pendingSend = new Stamper.PendingSend();
    private final ByteBuffer[] oneOut = new ByteBuffer[1];
    private ByteBuffer frameView;
    private ByteBuffer[] frameViews;

    // receiving side of a channel, guarded by inLock
    private final ByteBuffer[] oneIn = new ByteBuffer[1];
    private ByteBuffer inView;
    /** Where a channel read of a new message lands (direct: the kernel writes into it as it is). */
    private ByteBuffer inDirect;

    /** The channel's raw I/O (set by NioHooks; immutable, so a racing second set is harmless). */
    RawChannel raw;

    TcpConnection(AgentRuntime rt, InetSocketAddress localAddr, InetSocketAddress remoteAddr, boolean accepted, boolean preexisting) {
        this.rt = rt;
        this.local = format(localAddr);
        this.remote = format(remoteAddr);
        this.accepted = accepted;
        int policyPort = accepted ? port(localAddr) : port(remoteAddr);
        this.portMode = rt.config.modeFor(policyPort);
        this.peerInstrumented = !accepted && remoteAddr != null && rt.peerInstrumented(remoteAddr.getAddress(), remoteAddr.getPort());
        if (portMode == AgentConfig.PortMode.PLAIN) {
            inMode = PLAIN;
            outMode = PLAIN;
        } else if (preexisting) {
            // opened before the agent attached (or accepted by an accept() that was already running):
            // its outgoing stream is in flight, so no header can go in front of it. The incoming side
            // is still sniffed, which is safe mid-stream (a valid header is 8 fixed bytes plus a sane
            // length) and picks up an instrumented client accepted during the attach.
            outMode = PLAIN;
        }
    }

    private static int port(InetSocketAddress a) { return a == null ? 0 : a.getPort(); }

    static String format(InetSocketAddress a) {
        if (a == null) return "?";
        InetAddress ia = a.getAddress();
        if (ia == null) return a.getHostString() + ":" + a.getPort();
        String host = ia.getHostAddress();
        int pct = host.indexOf('%');
        if (pct >= 0) host = host.substring(0, pct);
        return (ia instanceof java.net.Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    public boolean inputFramed() { return inMode == FRAMED; }

    public boolean outputFramed() { return outMode == FRAMED; }

    // ---------------------------------------------------------------- receiving

    /** The application's read: returns payload bytes only, -1 at a clean end of stream. */
    public int read(InputStream in, byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) return 0;
        synchronized (inLock) {
            for (;;) {
                int mode = inMode;
                if (mode == PLAIN) {
                    int n;
                    if (inLim > inPos) {
                        n = Math.min(len, inLim - inPos);
                        System.arraycopy(inBuf, inPos, b, off, n);
                        inPos += n;
                    } else {
                        n = in.read(b, off, len);
                        if (n <= 0) return n;
                    }
                    recordPlainReceive(n);
                    return n;
                }
                if (mode == UNDECIDED) {
                    if (inBuf == null) inBuf = new byte[IN_BUFFER];
                    int buffered = inLim - inPos;
                    int p = Frame.signaturePrefix(inBuf, inPos, buffered);
                    if (p < 0 || (p == Frame.SIGNATURE.length && buffered >= Frame.HEADER_SIZE && Frame.validate(inBuf, inPos) != null)) {
                        inMode = PLAIN;
                    } else if (buffered >= Frame.HEADER_SIZE) {
                        inMode = FRAMED;
                    } else if (!fill(in)) {
                        if (inLim == inPos) return -1;
                        inMode = PLAIN; // the stream ended inside what looked like a header: those bytes are the data
                    }
                    continue;
                }
                // framed
                if (remaining > 0) {
                    int buffered = inLim - inPos;
                    if (buffered > 0) {
                        int n = Math.min(len, Math.min(remaining, buffered));
                        System.arraycopy(inBuf, inPos, b, off, n);
                        inPos += n;
                        remaining -= n;
                        inOffset += n;
                        return n;
                    }
                    if (len >= DIRECT_READ) {
                        int n = in.read(b, off, Math.min(len, remaining));
                        if (n < 0) throw eofInPayload();
                        remaining -= n;
                        inOffset += n;
                        return n;
                    }
                    if (!fill(in)) throw eofInPayload();
                    continue;
                }
                if (inLim == inPos && !fill(in)) return -1; // clean end between messages
                while (inLim - inPos < Frame.HEADER_SIZE) {
                    if (!fill(in)) {
                        throw new EOFException("hlctrace agent: connection " + local + " <- " + remote + " closed in the middle of a frame header ("
                                + (inLim - inPos) + " of " + Frame.HEADER_SIZE + " header bytes received): the peer's last message is incomplete");
                    }
                }
                startMessage();
            }
        }
    }

    /**
     * Decodes the frame header at {@code inPos} (all of it buffered) and merges its clock, before
     * the application sees a byte of the message.
     */
    private void startMessage() throws IOException {
        String bad = Frame.validate(inBuf, inPos);
        if (bad != null) {
            throw new IOException("hlctrace agent: corrupt frame header on connection " + local + " <- " + remote + " at payload offset "
                    + inOffset + ": " + bad + ". The stream cannot be decoded further; the peer's agent or something between the peers damaged it.");
        }
        int payload = Frame.payloadLength(inBuf, inPos);
        long rhlc = Frame.hlc(inBuf, inPos);
        long msg = Frame.msgId(inBuf, inPos);
        inPos += Frame.HEADER_SIZE;
        remaining = payload;
        rt.stamper.receive(this, rhlc, msg, payload, inOffset, inStamp);
    }

    private IOException eofInPayload() {
        return new EOFException("hlctrace agent: connection " + local + " <- " + remote + " closed in the middle of a framed message: "
                + remaining + " payload bytes never arrived (the bytes before were delivered; none are invented)");
    }

    /** One raw read into the buffer's free space; false at end of stream. */
    private boolean fill(InputStream in) throws IOException {
        if (inPos == inLim) {
            inPos = 0;
            inLim = 0;
        } else if (inLim == inBuf.length) {
            System.arraycopy(inBuf, inPos, inBuf, 0, inLim - inPos);
            inLim -= inPos;
            inPos = 0;
        }
        int n = in.read(inBuf, inLim, inBuf.length - inLim);
        if (n < 0) return false;
        inLim += n;
        return true;
    }

    private void recordPlainReceive(int n) {
        rt.stamper.plainReceive(this, n, inOffset, inStamp);
        inOffset += n;
    }

    /** Payload bytes that a read can return without blocking (never more than that). */
    public int available(InputStream in) throws IOException {
        synchronized (inLock) {
            int buffered = inLim - inPos;
            return switch (inMode) {
                case PLAIN -> buffered + in.available();
                case FRAMED -> remaining > 0 ? Math.min(remaining, buffered > 0 ? buffered : in.available()) : 0;
                default -> 0;
            };
        }
    }

    // ---------------------------------------------------------------- sending

    /** The application's write: one message, framed or plain. */
    public void write(OutputStream out, byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) return;
        synchronized (outLock) {
            int mode = outMode;
            if (mode == UNDECIDED) mode = outMode = decideOutput();
            // stamped before the bytes can leave: a blocking write takes all of them (or fails)
            if (mode == PLAIN) {
                rt.stamper.send(this, len, outOffset, pendingSend);
                out.write(b, off, len);
                outOffset += len;
                return;
            }
            Stamper.PendingSend m = pendingSend;
            rt.stamper.sendMessage(this, len, outOffset, m);
            if (outBuf == null) outBuf = new byte[Math.min(OUT_BUFFER, Frame.HEADER_SIZE + Math.max(len, 1024))];
            if (outBuf.length < Frame.HEADER_SIZE + len && outBuf.length < OUT_BUFFER) outBuf = new byte[Math.min(OUT_BUFFER, Frame.HEADER_SIZE + len)];
            Frame.writeHeader(outBuf, 0, m.hlc, m.msg, len);
            int first = Math.min(len, outBuf.length - Frame.HEADER_SIZE);
            System.arraycopy(b, off, outBuf, Frame.HEADER_SIZE, first);
            out.write(outBuf, 0, Frame.HEADER_SIZE + first);
            if (first < len) out.write(b, off + first, len - first);
            outOffset += len;
        }
    }

    // ---------------------------------------------------------------- NIO (SocketChannel)

    /** Raw channel I/O that bypasses the hooks. */
    interface RawChannel {
        /** {@code io}: the calling thread's state (its bypass mark), or null outside the hooks. */
        int read(ByteBuffer dst, AgentRuntime.IoState io) throws IOException;

        long write(ByteBuffer[] srcs, AgentRuntime.IoState io) throws IOException;

        boolean blocking();
    }

    /**
     * The application's channel read (single or scattering): payload bytes only. Unlike the stream
     * path it never reads past the current header or message, so no byte ever waits inside the agent
     * while a Selector reports the channel idle; a non-blocking read that would block returns 0.
     */
    public long nioRead(RawChannel raw, ByteBuffer[] dsts, int offset, int length, AgentRuntime.IoState io) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        synchronized (inLock) {
            return nioReadLocked(raw, dsts, offset, length, io);
        }
    }

    private long nioReadLocked(RawChannel raw, ByteBuffer[] dsts, int offset, int length, AgentRuntime.IoState io) throws IOException {
        long space = 0;
        for (int i = offset; i < offset + length; i++) space += dsts[i].remaining();
        if (space == 0) return 0;
        if (inBuf == null) inBuf = new byte[IN_BUFFER];
        long delivered = 0;
        for (;;) {
            int mode = inMode;
            int buffered = inLim - inPos;
            if (mode == PLAIN) {
                if (buffered > 0) {
                    int n = (int) Math.min(space - delivered, buffered);
                    scatter(dsts, offset, length, inBuf, inPos, n);
                    inPos += n;
                    recordPlainReceive(n);
                    return delivered + n;
                }
                if (delivered > 0) return delivered;
                ByteBuffer tmp = inView(0, (int) Math.min(space, inBuf.length));
                inPos = inLim = 0;
                int r = raw.read(tmp, io);
                if (r <= 0) return r;
                scatter(dsts, offset, length, inBuf, 0, r);
                recordPlainReceive(r);
                return r;
            }
            if (mode == FRAMED && remaining > 0) {
                if (buffered > 0) {
                    int n = (int) Math.min(Math.min(space - delivered, remaining), buffered);
                    scatter(dsts, offset, length, inBuf, inPos, n);
                    inPos += n;
                    remaining -= n;
                    inOffset += n;
                    delivered += n;
                    if (delivered == space) return delivered;
                    continue;
                }
                if (delivered > 0) return delivered; // never wait for more once bytes are delivered
                ByteBuffer tmp = inView(0, (int) Math.min(Math.min(space, remaining), inBuf.length));
                inPos = inLim = 0;
                int r = raw.read(tmp, io);
                if (r < 0) throw eofInPayload();
                if (r == 0) return 0;
                scatter(dsts, offset, length, inBuf, 0, r);
                remaining -= r;
                inOffset += r;
                return r;
            }
            if (mode == FRAMED && buffered >= Frame.HEADER_SIZE) {
                startMessage();
                continue;
            }
            if (mode == UNDECIDED && buffered > 0) {
                int p = Frame.signaturePrefix(inBuf, inPos, buffered);
                if (p < 0 || (buffered >= Frame.HEADER_SIZE && Frame.validate(inBuf, inPos) != null)) { inMode = PLAIN; continue; }
                if (buffered >= Frame.HEADER_SIZE) { inMode = FRAMED; continue; }
            }
            // fewer than a header's bytes are buffered: read more
            if (delivered > 0) return delivered; // the partial header stays; its rest arrives later
            if (mode == FRAMED && buffered == 0) {
                // the common case, a new message and nothing of it here yet: read header and
                // payload into a direct buffer and deliver the payload from it. Into the heap
                // buffer the JDK would read through one of its temporary direct buffers and copy
                // (taken and given back per call), and the payload would be copied twice.
                ByteBuffer d = inDirect;
                if (d == null) d = inDirect = ByteBuffer.allocateDirect(IN_BUFFER);
                d.clear();
                d.limit((int) Math.min(Frame.HEADER_SIZE + space, IN_BUFFER));
                int r = raw.read(d, io);
                if (r < 0) return -1; // clean end between messages
                if (r == 0) return 0;
                int head = Math.min(r, Frame.HEADER_SIZE);
                d.get(0, inBuf, 0, head);
                inPos = 0;
                inLim = head;
                if (r == head) continue; // the header (or part of it) only
                startMessage();
                int n = (int) Math.min(Math.min(space, remaining), r - head);
                scatter(dsts, offset, length, d, head, n);
                remaining -= n;
                inOffset += n;
                delivered = n;
                // what came after the message (the next messages, as much as fits in the
                // caller's room) goes to inBuf, where the loop delivers it as usual
                int rest = r - head - n;
                if (rest > 0) d.get(head + n, inBuf, 0, rest);
                inPos = 0;
                inLim = rest;
                if (delivered == space) return delivered;
                continue;
            }
            if (inPos > 0) {
                System.arraycopy(inBuf, inPos, inBuf, 0, buffered);
                inPos = 0;
                inLim = buffered;
            }
            // Framed: the header and up to as many bytes as the caller has room for, so one read
            // usually takes a whole small message; whatever of the stream comes with it is
            // delivered in this call (payload) or is at most an incomplete header, so no complete
            // byte ever waits here while a Selector sees the channel idle. Undecided: one header.
            int want = mode == FRAMED ? (int) Math.min(Frame.HEADER_SIZE - buffered + space, inBuf.length - inLim) : Frame.HEADER_SIZE - buffered;
            int r = raw.read(inView(inLim, inLim + want), io);
            if (r < 0) {
                if (buffered == 0) return -1;
                if (mode == UNDECIDED) { inMode = PLAIN; continue; }
                throw new EOFException("hlctrace agent: connection " + local + " <- " + remote + " closed in the middle of a frame header ("
                        + buffered + " of " + Frame.HEADER_SIZE + " header bytes received): the peer's last message is incomplete");
            }
            if (r == 0) return 0;
            inLim += r;
        }
    }

    private static void scatter(ByteBuffer[] dsts, int offset, int length, byte[] src, int pos, int n) {
        for (int i = offset; i < offset + length && n > 0; i++) {
            int k = Math.min(n, dsts[i].remaining());
            dsts[i].put(src, pos, k);
            pos += k;
            n -= k;
        }
    }

    private static void scatter(ByteBuffer[] dsts, int offset, int length, ByteBuffer src, int pos, int n) {
        for (int i = offset; i < offset + length && n > 0; i++) {
            ByteBuffer b = dsts[i];
            int k = Math.min(n, b.remaining());
            b.put(b.position(), src, pos, k);
            b.position(b.position() + k);
            pos += k;
            n -= k;
        }
    }

    // frame in progress on the channel: bytes [framePos, frameEnd) of frameBuf are not yet sent.
    // A direct buffer: the kernel takes it as it is (a heap buffer would be copied again into one
    // of the JDK's temporary direct buffers on every write)
    private ByteBuffer frameBuf;
    private final byte[] header = new byte[Frame.HEADER_SIZE];
    private int framePos;
    private int frameEnd;

    /**
     * The application's channel write (single or gathering). Framed: a message is at most 64 KiB of
     * payload; when the kernel takes only part of a frame, the rest of it stays pending and the call
     * reports only the payload bytes that went out, so the application offers the rest again.
     */
    public long nioWrite(RawChannel raw, ByteBuffer[] srcs, int offset, int length, AgentRuntime.IoState io) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        synchronized (outLock) {
            return nioWriteLocked(raw, srcs, offset, length, io);
        }
    }

    private long nioWriteLocked(RawChannel raw, ByteBuffer[] srcs, int offset, int length, AgentRuntime.IoState io) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) total += srcs[i].remaining();
        int mode = outMode;
        if (mode == UNDECIDED) {
            if (total == 0) return 0;
            mode = outMode = decideOutput();
        }
        if (mode == PLAIN) {
            ByteBuffer[] view = offset == 0 && length == srcs.length ? srcs : java.util.Arrays.copyOfRange(srcs, offset, offset + length);
            if (total == 0) return raw.write(view, io);
            if (raw.blocking()) {
                // a blocking write takes every byte (or fails): logged before they can leave
                rt.stamper.send(this, total, outOffset, pendingSend);
                long n = raw.write(view, io);
                outOffset += n;
                return n;
            }
            // non-blocking: stamped before the bytes can leave (a receiver on this executor may
            // stamp its receive before this call returns), logged with what the kernel took; a
            // write that would block gives its slot back and leaves no event
            Stamper.PendingSend p = pendingSend;
            rt.stamper.claimSend(this, false, p);
            long n;
            try {
                n = raw.write(view, io);
            } catch (Throwable t) {
                rt.stamper.notSent(p);
                throw t;
            }
            if (n > 0) {
                rt.stamper.sent(p, n, outOffset);
                outOffset += n;
            } else {
                rt.stamper.notSent(p);
            }
            return n;
        }
        if (frameBuf == null) frameBuf = ByteBuffer.allocateDirect(OUT_BUFFER);
        long sent = 0;
        boolean continuation = framePos < frameEnd;
        while (sent < total || framePos < frameEnd) {
            int limit;
            if (framePos >= frameEnd) {
                int k = (int) Math.min(total - sent, OUT_BUFFER - Frame.HEADER_SIZE);
                // the message is logged whole: its header holds this HLC, and the rest of a
                // frame the kernel takes only in part goes out with the next writes
                Stamper.PendingSend m = pendingSend;
                rt.stamper.sendMessage(this, k, outOffset, m);
                outOffset += k;
                Frame.writeHeader(header, 0, m.hlc, m.msg, k);
                frameBuf.put(0, header, 0, Frame.HEADER_SIZE);
                gather(srcs, offset, length, frameBuf, Frame.HEADER_SIZE, k);
                framePos = 0;
                frameEnd = Frame.HEADER_SIZE + k;
                limit = frameEnd;
            } else {
                // the rest of a frame the kernel took only part of: the application offers its
                // bytes again (what it offers now is what the stream carries)
                int payloadFrom = Math.max(framePos, Frame.HEADER_SIZE);
                int offer = (int) Math.min(frameEnd - payloadFrom, total - sent);
                gather(srcs, offset, length, frameBuf, payloadFrom, offer);
                limit = payloadFrom + offer;
                if (limit == framePos) break; // only payload is owed, and nothing was offered
            }
            long w = raw.write(frameView(framePos, limit), io);
            int payloadSent = (int) (Math.max(0, framePos + w - Frame.HEADER_SIZE) - Math.max(0, framePos - Frame.HEADER_SIZE));
            framePos += (int) w;
            advance(srcs, offset, length, payloadSent);
            sent += payloadSent;
            if (framePos < limit) break; // the socket buffer is full (non-blocking)
            if (continuation) {
                continuation = false;
                if (framePos < frameEnd) break;
            }
        }
        return sent;
    }

    /** frameBuf[from, to) as a one-element array of a reused buffer (guarded by outLock). */
    private ByteBuffer[] frameView(int from, int to) {
        if (frameView == null) {
            frameView = frameBuf.duplicate();
            frameViews = new ByteBuffer[] {frameView};
        }
        frameView.clear();
        frameView.limit(to);
        frameView.position(from);
        return frameViews;
    }

    /** inBuf[from, to) as a reused buffer (guarded by inLock). */
    private ByteBuffer inView(int from, int to) {
        if (inView == null || inView.array() != inBuf) inView = ByteBuffer.wrap(inBuf);
        inView.clear();
        inView.limit(to);
        inView.position(from);
        return inView;
    }

    /** read(ByteBuffer): {@link #nioRead} without an array per call. */
    public long nioRead(RawChannel raw, ByteBuffer dst, AgentRuntime.IoState io) throws IOException {
        synchronized (inLock) {
            oneIn[0] = dst;
            try {
                return nioReadLocked(raw, oneIn, 0, 1, io);
            } finally {
                oneIn[0] = null;
            }
        }
    }

    /** write(ByteBuffer): {@link #nioWrite} without an array per call. */
    public long nioWrite(RawChannel raw, ByteBuffer src, AgentRuntime.IoState io) throws IOException {
        synchronized (outLock) {
            oneOut[0] = src;
            try {
                return nioWriteLocked(raw, oneOut, 0, 1, io);
            } finally {
                oneOut[0] = null;
            }
        }
    }

    /** Copies n bytes from the buffers' current positions into dst at pos, without moving them. */
    private static void gather(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst, int pos, int n) {
        for (int i = offset; i < offset + length && n > 0; i++) {
            ByteBuffer b = srcs[i];
            int k = Math.min(n, b.remaining());
            dst.put(pos, b, b.position(), k);
            pos += k;
            n -= k;
        }
    }

    private static void advance(ByteBuffer[] srcs, int offset, int length, long n) {
        for (int i = offset; i < offset + length && n > 0; i++) {
            ByteBuffer b = srcs[i];
            int k = (int) Math.min(n, b.remaining());
            b.position(b.position() + k);
            n -= k;
        }
    }

    private int decideOutput() {
        return switch (portMode) {
            case PLAIN -> PLAIN;
            case FRAMED -> FRAMED;
            // the accepting side frames only once the client has shown it is instrumented
            case AUTO -> accepted ? (inMode == FRAMED ? FRAMED : PLAIN) : (peerInstrumented ? FRAMED : PLAIN);
        };
    }
}
