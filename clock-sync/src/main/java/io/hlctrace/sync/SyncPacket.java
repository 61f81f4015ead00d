package io.hlctrace.sync;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The UDP packet of the sync protocol; a request and its response have the same size, so a
 * responder never amplifies traffic. All numbers big-endian.
 *
 * <pre>
 * offset size field
 *   0     4   magic "HTS1"
 *   4     1   type: 1 request, 2 response
 *   5     1   flags: bit 0 sender unhealthy, bit 1 an HMAC follows
 *   6     2   length L of the sender id
 *   8     8   sequence number (chosen by the requester, echoed)
 *  16     8   t1: requester's clock at send (echoed)
 *  24     8   t2: responder's clock at receive (0 in a request)
 *  32     8   t3: responder's clock at send (0 in a request)
 *  40     8   generation: sender's clock generation (+1 on every correction of its clock)
 *  48     L   sender id, UTF-8
 *  48+L  32   HMAC-SHA256 over bytes [0, 48+L), when flag bit 1 is set
 * </pre>
 */
public record SyncPacket(int type, boolean senderUnhealthy, String sender, long seq, long t1, long t2, long t3, long generation) {
    public static final int REQUEST = 1;
    public static final int RESPONSE = 2;
    public static final int HEADER = 48;
    public static final int MAC_BYTES = 32;
    public static final int MAX_SIZE = HEADER + SyncConfig.MAX_ID_BYTES + MAC_BYTES;
    private static final int MAGIC = ('H' << 24) | ('T' << 16) | ('S' << 8) | '1';
    private static final int FLAG_UNHEALTHY = 1;
    private static final int FLAG_MAC = 2;

    /** Why a received packet was dropped. */
    public enum Rejection { MALFORMED, AUTH }

    /** A packet that failed to decode, and why. */
    public static final class RejectedPacketException extends Exception {
        private final Rejection rejection;

        RejectedPacketException(Rejection rejection, String message) {
            super(message, null, false, false);
            this.rejection = rejection;
        }

        public Rejection rejection() { return rejection; }
    }

    /** Encodes into {@code out} (cleared first, flipped after); signs when {@code mac} is not null. */
    public void encode(ByteBuffer out, Mac mac) {
        byte[] id = sender.getBytes(StandardCharsets.UTF_8);
        out.clear();
        out.putInt(MAGIC).put((byte) type).put((byte) ((senderUnhealthy ? FLAG_UNHEALTHY : 0) | (mac != null ? FLAG_MAC : 0)))
                .putShort((short) id.length).putLong(seq).putLong(t1).putLong(t2).putLong(t3).putLong(generation).put(id);
        if (mac != null) {
            mac.reset();
            mac.update(out.array(), out.arrayOffset(), out.position());
            out.put(mac.doFinal());
        }
        out.flip();
    }

    /**
     * Decodes {@code length} bytes of {@code buf}. With a key ({@code mac} not null) an unsigned or
     * wrongly signed packet is rejected; without one, a signed packet is rejected too (the two
     * executors are configured differently, and the packet cannot be trusted either way).
     */
    public static SyncPacket decode(byte[] buf, int length, Mac mac) throws RejectedPacketException {
        if (length < HEADER) throw new RejectedPacketException(Rejection.MALFORMED, "packet of " + length + " bytes is shorter than the " + HEADER + "-byte header");
        ByteBuffer b = ByteBuffer.wrap(buf, 0, length);
        if (b.getInt() != MAGIC) throw new RejectedPacketException(Rejection.MALFORMED, "not a sync packet (bad magic)");
        int type = b.get() & 0xFF;
        int flags = b.get() & 0xFF;
        int idLen = b.getShort() & 0xFFFF;
        if (type != REQUEST && type != RESPONSE) throw new RejectedPacketException(Rejection.MALFORMED, "unknown packet type " + type);
        boolean signed = (flags & FLAG_MAC) != 0;
        int expected = HEADER + idLen + (signed ? MAC_BYTES : 0);
        if (idLen > SyncConfig.MAX_ID_BYTES || length != expected) {
            throw new RejectedPacketException(Rejection.MALFORMED, "packet is " + length + " bytes, its header says " + expected);
        }
        if (mac != null) {
            if (!signed) throw new RejectedPacketException(Rejection.AUTH, "unsigned packet, but this executor requires an HMAC");
            mac.reset();
            mac.update(buf, 0, HEADER + idLen);
            byte[] want = mac.doFinal();
            byte[] got = new byte[MAC_BYTES];
            System.arraycopy(buf, HEADER + idLen, got, 0, MAC_BYTES);
            if (!MessageDigest.isEqual(want, got)) throw new RejectedPacketException(Rejection.AUTH, "HMAC does not match (wrong key, or the packet was altered)");
        } else if (signed) {
            throw new RejectedPacketException(Rejection.AUTH, "signed packet, but this executor has no HMAC key configured");
        }
        long seq = b.getLong();
        long t1 = b.getLong();
        long t2 = b.getLong();
        long t3 = b.getLong();
        long gen = b.getLong();
        String sender = new String(buf, HEADER, idLen, StandardCharsets.UTF_8);
        return new SyncPacket(type, (flags & FLAG_UNHEALTHY) != 0, sender, seq, t1, t2, t3, gen);
    }

    /** An HmacSHA256 instance for the key, or null without one. Not thread-safe: one per thread. */
    public static Mac newMac(byte[] key) {
        if (key == null) return null;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
        }
    }
}
