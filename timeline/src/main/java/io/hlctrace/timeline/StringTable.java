package io.hlctrace.timeline;

import java.nio.charset.StandardCharsets;

/**
 * Canonical strings for the values that repeat on every line (node, proc, kind, src, addresses),
 * looked up straight from the bytes so parsing them allocates nothing. Bounded: once full, values
 * are allocated as ordinary strings, so a hostile log with millions of distinct names costs only
 * the strings themselves.
 */
final class StringTable {
    private static final int CAPACITY = 1 << 16; // slots; at most 3/4 are filled
    private final byte[][] keys = new byte[CAPACITY][];
    private final String[] values = new String[CAPACITY];
    private final int[] hashes = new int[CAPACITY];
    private int size;

    String get(byte[] b, int start, int end, boolean ascii) {
        int len = end - start;
        if (len > 256) return decode(b, start, end, ascii);
        int h = hash(b, start, end);
        int mask = CAPACITY - 1;
        int slot = h & mask;
        for (;;) {
            byte[] k = keys[slot];
            if (k == null) break;
            if (hashes[slot] == h && java.util.Arrays.equals(k, 0, len, b, start, end)) return values[slot];
            slot = (slot + 1) & mask;
        }
        String s = decode(b, start, end, ascii);
        if (size < CAPACITY * 3 / 4) {
            byte[] k = new byte[len];
            System.arraycopy(b, start, k, 0, len);
            keys[slot] = k;
            values[slot] = s;
            hashes[slot] = h;
            size++;
        }
        return s;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /** Eight bytes at a time: these values are short, and this runs for several fields of every line. */
    private static int hash(byte[] b, int start, int end) {
        long h = end - start;
        int i = start;
        for (; i + 8 <= end; i += 8) h = (h ^ (long) LONGS.get(b, i)) * 0x9E3779B97F4A7C15L;
        for (; i < end; i++) h = (h ^ b[i]) * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    static String decode(byte[] b, int start, int end, boolean ascii) {
        return new String(b, start, end - start, ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    }
}
