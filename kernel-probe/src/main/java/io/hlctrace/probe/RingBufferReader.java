package io.hlctrace.probe;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Reads a BPF ring buffer map straight from its memory mapping, the way libbpf's ring_buffer
 * does, but without a native callback per record (a JNA callback costs microseconds, and on a
 * busy host every microsecond of the daemon is taken from the traced applications).
 *
 * <p>Kernel layout: page 0 (read-write) holds the consumer position; page 1 (read-only) the
 * producer position; then the data area, mapped twice in a row so that a record that wraps is
 * contiguous. Each record has an 8-byte header: u32 length with bit 31 = still being written and
 * bit 30 = discarded, and u32 page offset; records are 8-byte aligned.
 */
final class RingBufferReader implements AutoCloseable {
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());
    private static final int PAGE = 4096;
    private static final int BUSY = 1 << 31, DISCARD = 1 << 30;

    private final long size;
    private final long mask;
    private final Pointer consumerMap, producerMap;
    private final ByteBuffer consumer, producer, data;

    RingBufferReader(int mapFd, long ringBytes) {
        if (Long.bitCount(ringBytes) != 1 || ringBytes > (1L << 30)) throw new IllegalArgumentException("ring size " + ringBytes);
        size = ringBytes;
        mask = ringBytes - 1;
        consumerMap = LibC.INSTANCE.mmap(null, PAGE, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, mapFd, 0);
        if (failed(consumerMap)) throw BpfProbe.refusal("mmap the ring buffer's consumer page", Native.getLastError());
        producerMap = LibC.INSTANCE.mmap(null, PAGE + 2 * ringBytes, LibC.PROT_READ, LibC.MAP_SHARED, mapFd, PAGE);
        if (failed(producerMap)) {
            LibC.INSTANCE.munmap(consumerMap, PAGE);
            throw BpfProbe.refusal("mmap the ring buffer's data", Native.getLastError());
        }
        consumer = consumerMap.getByteBuffer(0, PAGE);
        producer = producerMap.getByteBuffer(0, PAGE);
        data = producerMap.getByteBuffer(PAGE, 2 * ringBytes).order(ByteOrder.nativeOrder());
    }

    private static boolean failed(Pointer p) {
        return p == null || Pointer.nativeValue(p) == -1L;
    }

    /** Receives one record: {@code len} bytes at {@code at} of {@code data} (native order), valid during the call. */
    interface RecordSink {
        void accept(ByteBuffer data, int at, int len);
    }

    /**
     * Hands every committed record to {@code sink} and returns how many were read; stops at the
     * first record still being written. No object per record: the sink reads the mapping in place.
     * The consumer position is published once per drain (and every 1/4 of the ring), which is
     * when the kernel may reuse the space.
     */
    int drain(RecordSink sink) {
        long cons = (long) LONGS.getVolatile(consumer, 0);
        long prod = (long) LONGS.getAcquire(producer, 0);
        long published = cons;
        int n = 0;
        while (cons < prod) {
            int at = (int) (cons & mask);
            int header = (int) INTS.getAcquire(data, at);
            if ((header & BUSY) != 0) break;
            int len = header & ~(BUSY | DISCARD);
            if ((header & DISCARD) == 0) {
                sink.accept(data, at + 8, len);
                n++;
            }
            cons += (len + 8 + 7) & ~7L;
            if (cons - published >= size / 4) {
                LONGS.setRelease(consumer, 0, cons);
                published = cons;
            }
        }
        if (cons != published) LONGS.setRelease(consumer, 0, cons);
        return n;
    }

    /** Bytes written by the kernel and not yet read. */
    long pending() {
        return (long) LONGS.getAcquire(producer, 0) - (long) LONGS.getVolatile(consumer, 0);
    }

    long size() { return size; }

    @Override
    public void close() {
        LibC.INSTANCE.munmap(consumerMap, PAGE);
        LibC.INSTANCE.munmap(producerMap, PAGE + 2 * size);
    }
}
