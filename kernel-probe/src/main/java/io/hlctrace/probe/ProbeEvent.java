package io.hlctrace.probe;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.HlcTimestamp;

/**
 * One record of the probe's ring buffer, decoded; the layout mirrors struct probe_event in
 * bpf/src/main/bpf/message_events.bpf.c (120 bytes, native byte order).
 */
public record ProbeEvent(long hlc, long rhlc, long pt, long cgroup, long off, int bytes, int tcpSeq,
        int pid, int tid, long netns, int family, int kind, int flags, int localPort, int remotePort,
        byte[] localAddr, byte[] remoteAddr, String comm) {

    public static final int SIZE = 120;
    public static final int KIND_SEND = 1, KIND_RECV = 2;
    public static final int FLAG_REFUSED = 1;
    /** The executor's unhealthy flag (clock-sync fail-stop) was set when the kernel stamped the event. */
    public static final int FLAG_UNHEALTHY = 2;
    static final int AF_INET = 2, AF_INET6 = 10;

    public static ProbeEvent decode(ByteBuffer raw) {
        ByteBuffer b = raw.order(ByteOrder.nativeOrder());
        int family = Short.toUnsignedInt(b.getShort(60));
        byte[] la = new byte[family == AF_INET6 ? 16 : 4];
        byte[] ra = new byte[la.length];
        b.get(72, la);
        b.get(88, ra);
        byte[] comm = new byte[16];
        b.get(104, comm);
        int len = 0;
        while (len < comm.length && comm[len] != 0) len++;
        return new ProbeEvent(b.getLong(0), b.getLong(8), b.getLong(16), b.getLong(24), b.getLong(32),
                b.getInt(40), b.getInt(44), b.getInt(48), b.getInt(52), Integer.toUnsignedLong(b.getInt(56)),
                family, Byte.toUnsignedInt(b.get(62)), Byte.toUnsignedInt(b.get(63)),
                Short.toUnsignedInt(b.getShort(64)), Short.toUnsignedInt(b.getShort(66)),
                la, ra, new String(comm, 0, len, StandardCharsets.UTF_8));
    }

    public boolean send() { return kind == KIND_SEND; }

    public boolean refused() { return (flags & FLAG_REFUSED) != 0; }

    public boolean unhealthy() { return (flags & FLAG_UNHEALTHY) != 0; }

    public String proc() { return comm + ":" + pid; }

    public String local() { return cachedEndpoint(localAddr, localPort); }

    public String remote() { return cachedEndpoint(remoteAddr, remotePort); }

    /** IPv4 endpoints repeat on every event of a connection: format each once. */
    private static final java.util.concurrent.ConcurrentHashMap<Long, String> V4_ENDPOINTS = new java.util.concurrent.ConcurrentHashMap<>();

    private static String cachedEndpoint(byte[] addr, int port) {
        if (addr.length != 4) return endpoint(addr, port);
        long key = ((long) ByteBuffer.wrap(addr).getInt() << 16) | port;
        String s = V4_ENDPOINTS.get(key);
        if (s == null) {
            if (V4_ENDPOINTS.size() > 65536) V4_ENDPOINTS.clear();
            s = endpoint(addr, port);
            V4_ENDPOINTS.put(key, s);
        }
        return s;
    }

    /** ip:port, IPv6 as [addr]:port; IPv4-mapped IPv6 prints as IPv4 so both ends of a flow agree. */
    static String endpoint(byte[] addr, int port) {
        byte[] a = addr;
        if (a.length == 16 && isV4Mapped(a)) a = java.util.Arrays.copyOfRange(a, 12, 16);
        try {
            InetAddress ia = InetAddress.getByAddress(a);
            String host = ia.getHostAddress();
            return (a.length == 16 ? "[" + host + "]" : host) + ":" + port;
        } catch (UnknownHostException e) {
            throw new IllegalStateException("address of " + a.length + " bytes", e);
        }
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) if (a[i] != 0) return false;
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    /** The event-log line (docs/event-log.md; the probe's fields are documented in docs/kernel-probe.md). */
    public String toLogLine(String node, long seq, StringBuilder reuse) {
        EventLogLine line = new EventLogLine(reuse)
                .hlc(hlc)
                .str(EventLogLine.NODE, node)
                .str(EventLogLine.PROC, proc())
                .num(EventLogLine.SEQ, seq)
                .str(EventLogLine.KIND, send() ? EventLogLine.KIND_SEND : EventLogLine.KIND_RECV)
                .num(EventLogLine.PT, pt)
                .str(EventLogLine.SRC, EventLogLine.SRC_PROBE)
                .conn("tcp", local(), remote())
                .num(EventLogLine.BYTES, Integer.toUnsignedLong(bytes))
                .range(EventLogLine.OFF, off, off + Integer.toUnsignedLong(bytes))
                .range(EventLogLine.TCP_SEQ, Integer.toUnsignedLong(tcpSeq), (Integer.toUnsignedLong(tcpSeq) + Integer.toUnsignedLong(bytes)) & 0xFFFFFFFFL);
        if (!send() && rhlc != 0) line.hex(EventLogLine.RHLC, rhlc);
        if (!send() && refused()) line.bool(EventLogLine.REFUSED, true);
        if (unhealthy()) line.bool(EventLogLine.UNHEALTHY, true);
        return line.num(EventLogLine.PID, Integer.toUnsignedLong(pid))
                .str(EventLogLine.COMM, comm)
                .num(EventLogLine.CGROUP, cgroup)
                .num(EventLogLine.NETNS, netns)
                .end();
    }

    @Override
    public String toString() {
        return (send() ? "send " : "recv ") + proc() + " " + local() + "->" + remote() + " " + HlcTimestamp.toHex(hlc) + " off " + off + "+" + bytes;
    }
}
