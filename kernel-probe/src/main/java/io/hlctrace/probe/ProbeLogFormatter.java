package io.hlctrace.probe;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import io.hlctrace.hlc.EventLogLine;

/**
 * Formats ring-buffer records as event-log lines straight into UTF-8 bytes, without a Java object
 * per event: the daemon competes with the traced applications for the same CPUs, and the
 * object-per-event path (decode to {@link ProbeEvent}, build a String, encode it) cost about
 * 0.7 us of daemon CPU per event. The output is byte for byte what
 * {@link ProbeEvent#toLogLine} writes with {@link EventLogLine} (ProbeLogFormatterTest compares
 * them); field names come from EventLogLine's constants. Whatever needs escaping (the command
 * name, IPv6 text) is formatted once per process or endpoint by the slow path and cached.
 *
 * <p>Also assigns {@code seq} per process (comm:pid) in the order records are formatted. Not
 * thread-safe: the daemon's poller thread owns it.
 */
final class ProbeLogFormatter {
    /** Bound of the IPv6 endpoint cache (IPv4 has its own fixed-size cache). */
    private static final int CACHE_LIMIT = 65536;

    private final byte[] vHlc = ascii("{\"" + EventLogLine.V + "\":1,\"" + EventLogLine.HLC + "\":\"");
    private final byte[] node;
    private final byte[] procKey = ascii(",\"" + EventLogLine.PROC + "\":");
    private final byte[] seqKey = ascii(",\"" + EventLogLine.SEQ + "\":");
    private final byte[] kindSend = ascii(",\"" + EventLogLine.KIND + "\":\"" + EventLogLine.KIND_SEND + "\",\"" + EventLogLine.PT + "\":");
    private final byte[] kindRecv = ascii(",\"" + EventLogLine.KIND + "\":\"" + EventLogLine.KIND_RECV + "\",\"" + EventLogLine.PT + "\":");
    private final byte[] srcConnLocal = ascii(",\"" + EventLogLine.SRC + "\":\"" + EventLogLine.SRC_PROBE + "\",\"" + EventLogLine.CONN + "\":{\""
            + EventLogLine.PROTO + "\":\"tcp\",\"" + EventLogLine.LOCAL + "\":");
    private final byte[] remoteKey = ascii(",\"" + EventLogLine.REMOTE + "\":");
    private final byte[] bytesKey = ascii("},\"" + EventLogLine.BYTES + "\":");
    private final byte[] offKey = ascii(",\"" + EventLogLine.OFF + "\":[");
    private final byte[] tcpSeqKey = ascii("],\"" + EventLogLine.TCP_SEQ + "\":[");
    private final byte[] rhlcKey = ascii("],\"" + EventLogLine.RHLC + "\":\"");
    private final byte[] refusedTrue = ascii(",\"" + EventLogLine.REFUSED + "\":true");
    private final byte[] unhealthyTrue = ascii(",\"" + EventLogLine.UNHEALTHY + "\":true");
    private final byte[] pidKey = ascii(",\"" + EventLogLine.PID + "\":");
    private final byte[] commKey = ascii(",\"" + EventLogLine.COMM + "\":");
    private final byte[] cgroupKey = ascii(",\"" + EventLogLine.CGROUP + "\":");
    private final byte[] netnsKey = ascii(",\"" + EventLogLine.NETNS + "\":");

    /**
     * One process (comm:pid; comm is per thread, so one pid may be several): its JSON text and seq,
     * and the parts of its last line that repeat from event to event: a process mostly talks on
     * the same connection from the same cgroup and namespace, so the connection object and the
     * line's tail are formatted once and copied until they change.
     */
    private static final class Proc {
        final int pid;
        final byte[] rawComm;
        final byte[] commJson;
        /** {@code ","node":..,"proc":..,"seq":}, the same on every line of the process. */
        final byte[] head;
        long seq;
        /** IPv4 flow of {@link #conn}: (address << 16 | port) of each end; conn is null until the first. */
        long connLocal, connRemote;
        byte[] conn;
        /** cgroup and netns of {@link #tail}. */
        long tailCgroup, tailNetns;
        byte[] tail;

        Proc(int pid, byte[] rawComm, byte[] head, byte[] commJson) {
            this.pid = pid;
            this.rawComm = rawComm;
            this.head = head;
            this.commJson = commJson;
        }
    }

    private final Map<Integer, Proc[]> procs = new HashMap<>();
    private final LongObjectCache<byte[]> v4Endpoints = new LongObjectCache<>(4096);
    private final Map<String, byte[]> v6Endpoints = new HashMap<>();
    private final byte[] commScratch = new byte[16];
    private final Output scratch = new Output(256);

    ProbeLogFormatter(String node) {
        StringBuilder sb = new StringBuilder();
        sb.append("\",\"").append(EventLogLine.NODE).append("\":");
        EventLogLine.appendJsonString(sb, node);
        this.node = sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] ascii(String s) { return s.getBytes(StandardCharsets.US_ASCII); }

    /** Appends the line of the record at {@code at} in {@code rec} (native order), with its newline. */
    void format(ByteBuffer rec, int at, Output out) {
        int pid = rec.getInt(at + 48);
        Proc proc = proc(rec, at, pid);
        long seq = ++proc.seq;
        long hlc = rec.getLong(at);
        long rhlc = rec.getLong(at + 8);
        int kind = Byte.toUnsignedInt(rec.get(at + 62));
        int flags = Byte.toUnsignedInt(rec.get(at + 63));
        long bytes = Integer.toUnsignedLong(rec.getInt(at + 40));
        long off = rec.getLong(at + 32);
        long tcpSeq = Integer.toUnsignedLong(rec.getInt(at + 44));
        boolean send = kind == ProbeEvent.KIND_SEND;

        out.put(vHlc);
        out.hex(hlc);
        out.put(proc.head);
        out.decimal(seq);
        out.put(send ? kindSend : kindRecv);
        out.decimal(rec.getLong(at + 16));
        putConn(proc, rec, at, out);
        out.decimal(bytes);
        out.put(offKey);
        out.decimal(off);
        out.put((byte) ',');
        out.decimal(off + bytes);
        out.put(tcpSeqKey);
        out.decimal(tcpSeq);
        out.put((byte) ',');
        out.decimal((tcpSeq + bytes) & 0xFFFFFFFFL);
        if (!send && rhlc != 0) {
            out.put(rhlcKey);
            out.hex(rhlc);
            out.put((byte) '"');
        } else {
            out.put((byte) ']');
        }
        if (!send && (flags & ProbeEvent.FLAG_REFUSED) != 0) out.put(refusedTrue);
        if ((flags & ProbeEvent.FLAG_UNHEALTHY) != 0) out.put(unhealthyTrue);
        out.put(tail(proc, rec.getLong(at + 24), Integer.toUnsignedLong(rec.getInt(at + 56))));
    }

    /**
     * Appends {@code ,"src":"probe","conn":{...},"bytes":} of the record's flow: for IPv4 the
     * process's last one is cached (copied while the flow stays the same); IPv6 endpoints come from
     * their own cache, written piece by piece.
     */
    private void putConn(Proc proc, ByteBuffer rec, int at, Output out) {
        int family = Short.toUnsignedInt(rec.getShort(at + 60));
        int lport = Short.toUnsignedInt(rec.getShort(at + 64));
        int rport = Short.toUnsignedInt(rec.getShort(at + 66));
        if (family == ProbeEvent.AF_INET6) {
            putConnPieces(rec, at, lport, rport, family, out);
            return;
        }
        long localFlow = (v4Address(rec, at + 72) << 16) | lport;
        long remoteFlow = (v4Address(rec, at + 88) << 16) | rport;
        if (proc.conn == null || proc.connLocal != localFlow || proc.connRemote != remoteFlow) {
            scratch.reset();
            putConnPieces(rec, at, lport, rport, family, scratch);
            proc.conn = Arrays.copyOf(scratch.buf, scratch.len);
            proc.connLocal = localFlow;
            proc.connRemote = remoteFlow;
        }
        out.put(proc.conn);
    }

    private void putConnPieces(ByteBuffer rec, int at, int lport, int rport, int family, Output out) {
        out.put(srcConnLocal);
        out.put(endpoint(rec, at + 72, lport, family));
        out.put(remoteKey);
        out.put(endpoint(rec, at + 88, rport, family));
        out.put(bytesKey);
    }

    /** {@code ,"pid":..,"comm":..,"cgroup":..,"netns":..}} and the newline (cached per process). */
    private byte[] tail(Proc proc, long cgroup, long netns) {
        if (proc.tail != null && proc.tailCgroup == cgroup && proc.tailNetns == netns) return proc.tail;
        scratch.reset();
        scratch.put(pidKey);
        scratch.decimal(Integer.toUnsignedLong(proc.pid));
        scratch.put(commKey);
        scratch.put(proc.commJson);
        scratch.put(cgroupKey);
        scratch.decimal(cgroup);
        scratch.put(netnsKey);
        scratch.decimal(netns);
        scratch.put((byte) '}');
        scratch.put((byte) '\n');
        proc.tail = Arrays.copyOf(scratch.buf, scratch.len);
        proc.tailCgroup = cgroup;
        proc.tailNetns = netns;
        return proc.tail;
    }

    private static long v4Address(ByteBuffer rec, int at) {
        return ((rec.get(at) & 0xFFL) << 24) | ((rec.get(at + 1) & 0xFFL) << 16) | ((rec.get(at + 2) & 0xFFL) << 8) | (rec.get(at + 3) & 0xFFL);
    }

    private Proc proc(ByteBuffer rec, int at, int pid) {
        rec.get(at + 104, commScratch);
        Proc[] known = procs.get(pid);
        if (known != null) {
            for (Proc p : known) if (Arrays.equals(p.rawComm, commScratch)) return p;
        }
        int len = 0;
        while (len < 16 && commScratch[len] != 0) len++;
        String comm = new String(commScratch, 0, len, StandardCharsets.UTF_8);
        scratch.reset();
        scratch.put(node);
        scratch.put(procKey);
        scratch.put(json(comm + ":" + Integer.toUnsignedString(pid)));
        scratch.put(seqKey);
        Proc p = new Proc(pid, commScratch.clone(), Arrays.copyOf(scratch.buf, scratch.len), json(comm));
        Proc[] grown = known == null ? new Proc[] {p} : Arrays.copyOf(known, known.length + 1);
        grown[grown.length - 1] = p;
        procs.put(pid, grown);
        return p;
    }

    private byte[] json(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        EventLogLine.appendJsonString(sb, s);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private byte[] endpoint(ByteBuffer rec, int at, int port, int family) {
        if (family != ProbeEvent.AF_INET6) {
            long key = (v4Address(rec, at) << 16) | port;
            byte[] v = v4Endpoints.get(key);
            if (v == null) {
                byte[] a = new byte[4];
                rec.get(at, a);
                v = json(ProbeEvent.endpoint(a, port));
                v4Endpoints.put(key, v);
            }
            return v;
        }
        byte[] a = new byte[16];
        rec.get(at, a);
        String text = ProbeEvent.endpoint(a, port);
        if (v6Endpoints.size() > CACHE_LIMIT) v6Endpoints.clear();
        return v6Endpoints.computeIfAbsent(text, this::json);
    }

    /** A growable byte buffer the lines go to; written to the file in one write per batch. */
    static final class Output {
        byte[] buf;
        int len;

        Output(int capacity) { buf = new byte[capacity]; }

        private void room(int n) {
            if (len + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        }

        void put(byte b) {
            room(1);
            buf[len++] = b;
        }

        void put(byte[] b) {
            room(b.length);
            System.arraycopy(b, 0, buf, len, b.length);
            len += b.length;
        }

        void hex(long w) {
            room(16);
            len = EventLogLine.writeHex(buf, len, w);
        }

        void decimal(long v) {
            room(EventLogLine.MAX_DECIMAL_BYTES);
            len = EventLogLine.writeDecimal(buf, len, v);
        }

        void reset() { len = 0; }
    }

    /** A small open-addressing long -> object map; cleared when full (a cache). */
    static final class LongObjectCache<V> {
        private final long[] keys;
        private final Object[] values;
        private final int mask;
        private int size;

        LongObjectCache(int capacity) {
            int n = Integer.highestOneBit(capacity * 2 - 1);
            keys = new long[n];
            values = new Object[n];
            mask = n - 1;
        }

        @SuppressWarnings("unchecked")
        V get(long key) {
            for (int i = slot(key); ; i = (i + 1) & mask) {
                Object v = values[i];
                if (v == null) return null;
                if (keys[i] == key) return (V) v;
            }
        }

        void put(long key, V value) {
            if (size >= keys.length / 2) {
                Arrays.fill(values, null);
                size = 0;
            }
            int i = slot(key);
            while (values[i] != null && keys[i] != key) i = (i + 1) & mask;
            if (values[i] == null) size++;
            keys[i] = key;
            values[i] = value;
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }
    }
}
