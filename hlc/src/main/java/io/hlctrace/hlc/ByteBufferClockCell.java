package io.hlctrace.hlc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A clock word inside a direct buffer shared with other processes or the kernel: a mapped file or
 * an mmapped BPF array map. The word is in native byte order (as the kernel sees a __u64) and must
 * be 8-byte aligned, so that the compare-and-set is one hardware CAS that other processes and BPF
 * programs see.
 */
public final class ByteBufferClockCell implements ClockCell {
    static final VarHandle NATIVE_LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final ByteBuffer buffer;
    private final int offset;

    public ByteBufferClockCell(ByteBuffer buffer, int offset) {
        if (!buffer.isDirect()) throw new IllegalArgumentException("a shared clock word needs a direct (mapped) buffer");
        if (offset < 0 || offset + 8 > buffer.capacity()) throw new IllegalArgumentException("offset " + offset + " outside the buffer of " + buffer.capacity() + " bytes");
        if (buffer.alignmentOffset(offset, 8) != 0) {
            throw new IllegalArgumentException("the clock word at offset " + offset + " is not 8-byte aligned");
        }
        this.buffer = buffer;
        this.offset = offset;
    }

    @Override
    public long get() {
        return (long) NATIVE_LONGS.getVolatile(buffer, offset);
    }

    @Override
    public boolean compareAndSet(long expect, long update) {
        return NATIVE_LONGS.compareAndSet(buffer, offset, expect, update);
    }

    @Override
    public long compareAndExchange(long expect, long update) {
        return (long) NATIVE_LONGS.compareAndExchange(buffer, offset, expect, update);
    }
}
