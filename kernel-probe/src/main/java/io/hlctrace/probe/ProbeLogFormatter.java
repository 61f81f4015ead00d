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
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
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

    /** One process (comm:pid; comm is per thread, so one pid may be several): its JSON text and seq. */
    private static final class Proc {
        final int pid;
        final byte[] rawComm;
        final byte[] procJson, commJson;
        long seq;

        Proc(int pid, byte[] rawComm, byte[] procJson, byte[] commJson) {
            this.pid = pid;
            this.rawComm = rawComm;
            this.procJson = procJson;
            this.commJson = commJson;
        }
    }

    private final Map<Integer, Proc[]> procs = new HashMap<>();
    private final LongObjectCache<byte[]> v4Endpoints = new LongObjectCache<>(4096);
    private final Map<String, byte[]> v6Endpoints = new HashMap<>();
    private final byte[] commScratch = new byte[16];

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
        out.put(node);
        out.put(procKey);
        out.put(proc.procJson);
        out.put(seqKey);
        out.decimal(seq);
        out.put(send ? kindSend : kindRecv);
        out.decimal(rec.getLong(at + 16));
        out.put(srcConnLocal);
        int family = Short.toUnsignedInt(rec.getShort(at + 60));
        out.put(endpoint(rec, at + 72, Short.toUnsignedInt(rec.getShort(at + 64)), family));
        out.put(remoteKey);
        out.put(endpoint(rec, at + 88, Short.toUnsignedInt(rec.getShort(at + 66)), family));
        out.put(bytesKey);
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
        out.put(pidKey);
        out.decimal(Integer.toUnsignedLong(pid));
        out.put(commKey);
        out.put(proc.commJson);
        out.put(cgroupKey);
        out.decimal(rec.getLong(at + 24));
        out.put(netnsKey);
        out.decimal(Integer.toUnsignedLong(rec.getInt(at + 56)));
        out.put((byte) '}');
        out.put((byte) '\n');
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
        Proc p = new Proc(pid, commScratch.clone(), json(comm + ":" + Integer.toUnsignedString(pid)), json(comm));
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
            long addr = ((rec.get(at) & 0xFFL) << 24) | ((rec.get(at + 1) & 0xFFL) << 16) | ((rec.get(at + 2) & 0xFFL) << 8) | (rec.get(at + 3) & 0xFFL);
            long key = (addr << 16) | port;
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
            for (int i = 15; i >= 0; i--) {
                buf[len + i] = HEX[(int) (w & 0xF)];
                w >>>= 4;
            }
            len += 16;
        }

        /** A non-negative or negative long in decimal, as StringBuilder.append(long) writes it. */
        void decimal(long v) {
            room(20);
            if (v < 0) {
                if (v == Long.MIN_VALUE) {
                    put(ascii(Long.toString(v)));
                    return;
                }
                buf[len++] = '-';
                v = -v;
            }
            int start = len;
            do {
                buf[len++] = (byte) ('0' + (int) (v % 10));
                v /= 10;
            } while (v != 0);
            for (int i = start, j = len - 1; i < j; i++, j--) {
                byte t = buf[i];
                buf[i] = buf[j];
                buf[j] = t;
            }
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
