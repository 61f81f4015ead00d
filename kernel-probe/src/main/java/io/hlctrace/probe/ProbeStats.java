package io.hlctrace.probe;

/** Indexes of the BPF stats map, mirroring enum hlc_stat in bpf/src/main/bpf/hlc_clock.h. */
public final class ProbeStats {
    public static final int RINGBUF_DROPS = 0;
    public static final int OPTIONS_WRITTEN = 1;
    public static final int OPTIONS_MERGED = 2;
    public static final int OPTIONS_REFUSED = 3;
    public static final int CAS_EXHAUSTED = 4;
    public static final int EVENTS = 5;
    /** Fail-stop with fail_mode refuse: segments sent without the option while unhealthy. */
    public static final int OPTIONS_WITHHELD = 6;
    /** Fail-stop with fail_mode refuse: sends and receives not stamped while unhealthy (reported as drop events). */
    public static final int EVENTS_WITHHELD = 7;
    /** Fail-stop with fail_mode refuse: received options not merged, kept for the connection's next receive event. */
    public static final int OPTIONS_DEFERRED = 8;

    private ProbeStats() {}
}
