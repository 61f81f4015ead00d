package io.hlctrace.agent;

/**
 * The in-band frame header that carries the HLC of one application write to an instrumented peer.
 *
 * <pre>
 * offset size field
 *   0     4   magic 0xF3 'H' 'L' 'C'   (0xF3 is no HTTP method letter and no TLS record type, so
 *                                      HTTP and TLS servers reject a framed connection at once)
 *   4     1   version (1)
 *   5     1   flags: bit 0 NO_HLC (the sender's executor was fail-stopped with failMode refuse:
 *                     the HLC field is 0 and the receiver merges nothing); readers refuse others
 *   6     2   header length (28), so later versions can grow the header
 *   8     8   HLC word of the send (docs/hlc-encoding.md); 0 exactly when NO_HLC is set
 *  16     8   message id: the same on the send and the receive events
 *  24     4   payload length in bytes (1 .. 2^31-1)
 * </pre>
 * All fields big-endian. Header and payload of small messages go out in one write.
 */
public final class Frame {
    public static final int HEADER_SIZE = 28;
    public static final byte MAGIC0 = (byte) 0xF3;
    public static final byte[] MAGIC = {MAGIC0, 'H', 'L', 'C'};
    public static final int VERSION = 1;
    /** Flags bit 0: the message carries no timestamp (HLC field 0); set exactly when the HLC is 0. */
    public static final byte FLAG_NO_HLC = 1;
    private static final int FLAGS_INDEX = 5;

    private Frame() {}

    /** Writes a header at {@code off} of {@code buf}; {@code hlc} 0 means "no timestamp" (flag NO_HLC). */
    public static void writeHeader(byte[] buf, int off, long hlc, long msgId, int payloadLength) {
        buf[off] = MAGIC[0];
        buf[off + 1] = MAGIC[1];
        buf[off + 2] = MAGIC[2];
        buf[off + 3] = MAGIC[3];
        buf[off + 4] = (byte) VERSION;
        buf[off + 5] = hlc == 0 ? FLAG_NO_HLC : 0;
        buf[off + 6] = 0;
        buf[off + 7] = (byte) HEADER_SIZE;
        putLong(buf, off + 8, hlc);
        putLong(buf, off + 16, msgId);
        putInt(buf, off + 24, payloadLength);
    }

    /**
     * The first 8 bytes of a version-1 header: magic, version, flags, header length. The flags byte
     * is 0 or {@link #FLAG_NO_HLC}, since a connection may start while its sender is fail-stopped.
     */
    public static final byte[] SIGNATURE = {MAGIC0, 'H', 'L', 'C', (byte) VERSION, 0, 0, (byte) HEADER_SIZE};

    /**
     * How many of the first bytes of {@code buf[off, off+n)} agree with {@link #SIGNATURE} (at most
     * 8), or -1 as soon as one differs: a plain stream is told apart after its first byte in practice.
     */
    public static int signaturePrefix(byte[] buf, int off, int n) {
        int m = Math.min(n, SIGNATURE.length);
        for (int i = 0; i < m; i++) {
            if (buf[off + i] != SIGNATURE[i] && !(i == FLAGS_INDEX && buf[off + i] == FLAG_NO_HLC)) return -1;
        }
        return m;
    }

    /** How many leading bytes of {@code buf[off, off+n)} agree with the magic (at most 4). */
    public static int magicPrefix(byte[] buf, int off, int n) {
        int m = Math.min(n, MAGIC.length);
        for (int i = 0; i < m; i++) {
            if (buf[off + i] != MAGIC[i]) return -1;
        }
        return m;
    }

    /** Checks a complete header; returns null when it is valid, else why not. */
    public static String validate(byte[] buf, int off) {
        if (magicPrefix(buf, off, 4) != 4) return "bad magic";
        if (buf[off + 4] != VERSION) return "unsupported frame version " + (buf[off + 4] & 0xFF) + " (this agent reads version " + VERSION + ")";
        byte flags = buf[off + FLAGS_INDEX];
        if ((flags & ~FLAG_NO_HLC) != 0) return "unknown frame flags 0x" + Integer.toHexString(flags & 0xFF);
        if ((flags == FLAG_NO_HLC) != (hlc(buf, off) == 0)) {
            return flags == FLAG_NO_HLC ? "flag NO_HLC set but the HLC field is not 0" : "HLC field 0 without the NO_HLC flag";
        }
        int headerLength = ((buf[off + 6] & 0xFF) << 8) | (buf[off + 7] & 0xFF);
        if (headerLength != HEADER_SIZE) return "header length " + headerLength + ", expected " + HEADER_SIZE;
        int len = payloadLength(buf, off);
        if (len <= 0) return "payload length " + (len & 0xFFFFFFFFL) + " out of range";
        return null;
    }

    /** The sender's HLC, 0 when the message carries none (flag NO_HLC; checked by {@link #validate}). */
    public static long hlc(byte[] buf, int off) { return getLong(buf, off + 8); }

    public static long msgId(byte[] buf, int off) { return getLong(buf, off + 16); }

    public static int payloadLength(byte[] buf, int off) { return getInt(buf, off + 24); }

    static void putLong(byte[] b, int o, long v) {
        for (int i = 7; i >= 0; i--) { b[o + i] = (byte) v; v >>>= 8; }
    }

    static void putInt(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 24); b[o + 1] = (byte) (v >>> 16); b[o + 2] = (byte) (v >>> 8); b[o + 3] = (byte) v;
    }

    static long getLong(byte[] b, int o) {
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (b[o + i] & 0xFF);
        return v;
    }

    static int getInt(byte[] b, int o) {
        return ((b[o] & 0xFF) << 24) | ((b[o + 1] & 0xFF) << 16) | ((b[o + 2] & 0xFF) << 8) | (b[o + 3] & 0xFF);
    }
}
