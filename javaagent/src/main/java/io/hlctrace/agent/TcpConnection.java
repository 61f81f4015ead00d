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

    // sending side, guarded by outLock
    private final Object outLock = new Object();
    volatile int outMode;
    private byte[] outBuf;
    private long outOffset;

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
                // merge before the application sees a byte of the message
                EventLog.Event e = rt.stamper.receive(this, rhlc, msg, payload);
                e.offStart = inOffset;
                e.offEnd = inOffset + payload;
                rt.stamper.log(e);
            }
        }
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
        EventLog.Event e = rt.stamper.plainReceive(this, n);
        e.offStart = inOffset;
        e.offEnd = inOffset + n;
        inOffset += n;
        rt.stamper.log(e);
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
            EventLog.Event e = rt.stamper.send(this, len);
            e.offStart = outOffset;
            e.offEnd = outOffset + len;
            if (mode == PLAIN) {
                rt.stamper.log(e);
                out.write(b, off, len);
                outOffset += len;
                return;
            }
            long msg = rt.nextMessageId();
            e.msg = msg;
            e.hasMsg = true;
            rt.stamper.log(e);
            if (outBuf == null) outBuf = new byte[Math.min(OUT_BUFFER, Frame.HEADER_SIZE + Math.max(len, 1024))];
            if (outBuf.length < Frame.HEADER_SIZE + len && outBuf.length < OUT_BUFFER) outBuf = new byte[Math.min(OUT_BUFFER, Frame.HEADER_SIZE + len)];
            Frame.writeHeader(outBuf, 0, e.hlc, msg, len);
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
        int read(ByteBuffer dst) throws IOException;

        long write(ByteBuffer[] srcs) throws IOException;

        boolean blocking();
    }

    /**
     * The application's channel read (single or scattering): payload bytes only. Unlike the stream
     * path it never reads past the current header or message, so no byte ever waits inside the agent
     * while a Selector reports the channel idle; a non-blocking read that would block returns 0.
     */
    public long nioRead(RawChannel raw, ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        long space = 0;
        for (int i = offset; i < offset + length; i++) space += dsts[i].remaining();
        if (space == 0) return 0;
        synchronized (inLock) {
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
                    ByteBuffer tmp = ByteBuffer.wrap(inBuf, 0, (int) Math.min(space, inBuf.length));
                    inPos = inLim = 0;
                    int r = raw.read(tmp);
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
                    ByteBuffer tmp = ByteBuffer.wrap(inBuf, 0, (int) Math.min(Math.min(space, remaining), inBuf.length));
                    inPos = inLim = 0;
                    int r = raw.read(tmp);
                    if (r < 0) throw eofInPayload();
                    if (r == 0) return 0;
                    scatter(dsts, offset, length, inBuf, 0, r);
                    remaining -= r;
                    inOffset += r;
                    return r;
                }
                if (mode == FRAMED && buffered >= Frame.HEADER_SIZE) {
                    String bad = Frame.validate(inBuf, inPos);
                    if (bad != null) {
                        throw new IOException("hlctrace agent: corrupt frame header on connection " + local + " <- " + remote + " at payload offset "
                                + inOffset + ": " + bad + ". The stream cannot be decoded further.");
                    }
                    int payload = Frame.payloadLength(inBuf, inPos);
                    long rhlc = Frame.hlc(inBuf, inPos);
                    long msg = Frame.msgId(inBuf, inPos);
                    inPos += Frame.HEADER_SIZE;
                    remaining = payload;
                    // merged before the application sees a byte of the message
                    EventLog.Event e = rt.stamper.receive(this, rhlc, msg, payload);
                    e.offStart = inOffset;
                    e.offEnd = inOffset + payload;
                    rt.stamper.log(e);
                    continue;
                }
                if (mode == UNDECIDED && buffered > 0) {
                    int p = Frame.signaturePrefix(inBuf, inPos, buffered);
                    if (p < 0 || (buffered >= Frame.HEADER_SIZE && Frame.validate(inBuf, inPos) != null)) { inMode = PLAIN; continue; }
                    if (buffered >= Frame.HEADER_SIZE) { inMode = FRAMED; continue; }
                }
                // fewer than a header's bytes are buffered: read more
                if (delivered > 0) return delivered; // the partial header stays; its rest arrives later
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
                int r = raw.read(ByteBuffer.wrap(inBuf, inLim, want));
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
    }

    private static void scatter(ByteBuffer[] dsts, int offset, int length, byte[] src, int pos, int n) {
        for (int i = offset; i < offset + length && n > 0; i++) {
            int k = Math.min(n, dsts[i].remaining());
            dsts[i].put(src, pos, k);
            pos += k;
            n -= k;
        }
    }

    // frame in progress on the channel: bytes [framePos, frameEnd) of frameBuf are not yet sent
    private byte[] frameBuf;
    private int framePos;
    private int frameEnd;

    /**
     * The application's channel write (single or gathering). Framed: a message is at most 64 KiB of
     * payload; when the kernel takes only part of a frame, the rest of it stays pending and the call
     * reports only the payload bytes that went out, so the application offers the rest again.
     */
    public long nioWrite(RawChannel raw, ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        long total = 0;
        for (int i = offset; i < offset + length; i++) total += srcs[i].remaining();
        synchronized (outLock) {
            int mode = outMode;
            if (mode == UNDECIDED) {
                if (total == 0) return 0;
                mode = outMode = decideOutput();
            }
            if (mode == PLAIN) {
                ByteBuffer[] view = offset == 0 && length == srcs.length ? srcs : java.util.Arrays.copyOfRange(srcs, offset, offset + length);
                // a blocking write is stamped before its bytes leave; a non-blocking one only once the
                // kernel took some, so a write that would block leaves no event (and no gap in seq)
                EventLog.Event e = raw.blocking() ? rt.stamper.send(this, 0) : null;
                long n = raw.write(view);
                if (n > 0) {
                    if (e == null) e = rt.stamper.send(this, n);
                    e.bytes = n;
                    e.offStart = outOffset;
                    e.offEnd = outOffset + n;
                    outOffset += n;
                    rt.stamper.log(e);
                }
                return n;
            }
            if (frameBuf == null) frameBuf = new byte[OUT_BUFFER];
            long sent = 0;
            boolean continuation = framePos < frameEnd;
            while (sent < total || framePos < frameEnd) {
                int limit;
                if (framePos >= frameEnd) {
                    int k = (int) Math.min(total - sent, OUT_BUFFER - Frame.HEADER_SIZE);
                    EventLog.Event e = rt.stamper.send(this, k);
                    long msg = rt.nextMessageId();
                    e.msg = msg;
                    e.hasMsg = true;
                    e.offStart = outOffset;
                    e.offEnd = outOffset + k;
                    outOffset += k;
                    rt.stamper.log(e);
                    Frame.writeHeader(frameBuf, 0, e.hlc, msg, k);
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
                long w = raw.write(new ByteBuffer[] {ByteBuffer.wrap(frameBuf, framePos, limit - framePos)});
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
    }

    /** Copies n bytes from the buffers' current positions without moving them. */
    private static void gather(ByteBuffer[] srcs, int offset, int length, byte[] dst, int pos, int n) {
        for (int i = offset; i < offset + length && n > 0; i++) {
            ByteBuffer b = srcs[i];
            int k = Math.min(n, b.remaining());
            b.get(b.position(), dst, pos, k);
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
