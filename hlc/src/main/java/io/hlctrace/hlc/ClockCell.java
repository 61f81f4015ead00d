package io.hlctrace.hlc;

/**
 * Where a clock's 64-bit word lives. All stamping on an executor ticks one word by compare-and-set:
 * in this process ({@link AtomicClockCell}), in a file mapped by every process of the executor
 * ({@link ExecutorClockFile}), or in the BPF array map shared with the kernel (kernel-probe wraps
 * the mmapped map with {@link ByteBufferClockCell}).
 */
public interface ClockCell {
    /** A volatile read of the word. */
    long get();

    /** Atomically sets the word to {@code update} if it is {@code expect}. */
    boolean compareAndSet(long expect, long update);

    /**
     * Atomically sets the word to {@code update} if it is {@code expect}, and returns the word it
     * found (equal to {@code expect} on success). Under contention this spares the re-read a failed
     * {@link #compareAndSet} would need.
     */
    default long compareAndExchange(long expect, long update) {
        for (;;) {
            if (compareAndSet(expect, update)) return expect;
            long seen = get();
            if (seen != expect) return seen;
        }
    }
}
