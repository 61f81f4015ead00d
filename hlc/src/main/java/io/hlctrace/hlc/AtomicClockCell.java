package io.hlctrace.hlc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** A clock word private to this process. */
public final class AtomicClockCell implements ClockCell {
    private static final VarHandle WORD;

    static {
        try {
            WORD = MethodHandles.lookup().findVarHandle(AtomicClockCell.class, "word", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // accessed through WORD
    private volatile long word;

    public AtomicClockCell() {}

    public AtomicClockCell(long initial) {
        this.word = initial;
    }

    @Override
    public long get() { return word; }

    @Override
    public boolean compareAndSet(long expect, long update) {
        return WORD.compareAndSet(this, expect, update);
    }

    @Override
    public long compareAndExchange(long expect, long update) {
        return (long) WORD.compareAndExchange(this, expect, update);
    }
}
