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
        putLong(buf, off, hlc == 0 ? SIGNATURE_NO_HLC_WORD : SIGNATURE_WORD);
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
    /** The first 8 bytes of a header, as one big-endian word: with and without the NO_HLC flag. */
    static final long SIGNATURE_WORD = 0xF3484C430100001CL, SIGNATURE_NO_HLC_WORD = 0xF3484C430101001CL;

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
        long first = getLong(buf, off);
        // the common case in one comparison: a timestamped header with a sane length
        if (first == SIGNATURE_WORD && getLong(buf, off + 8) != 0 && getInt(buf, off + 24) > 0) return null;
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

    // big-endian views: one load or store each (the JIT emits a bswap), instead of a byte loop
    private static final java.lang.invoke.VarHandle LONG_BE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);
    private static final java.lang.invoke.VarHandle INT_BE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.BIG_ENDIAN);

    static void putLong(byte[] b, int o, long v) {
        LONG_BE.set(b, o, v);
    }

    static void putInt(byte[] b, int o, int v) {
        INT_BE.set(b, o, v);
    }

    static long getLong(byte[] b, int o) {
        return (long) LONG_BE.get(b, o);
    }

    static int getInt(byte[] b, int o) {
        return (int) INT_BE.get(b, o);
    }
}
