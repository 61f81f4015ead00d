package io.hlctrace.probe;

/** Indexes of the BPF stats map, mirroring enum hlc_stat in bpf/src/main/bpf/hlc_clock.h. */
public final class ProbeStats {
    public static final int RINGBUF_DROPS = 0;
    public static final int OPTIONS_WRITTEN = 1;
    public static final int OPTIONS_MERGED = 2;
    public static final int OPTIONS_REFUSED = 3;
    public static final int CAS_EXHAUSTED = 4;
    public static final int EVENTS = 5;

    private ProbeStats() {}
}
