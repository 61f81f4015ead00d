package io.hlctrace.probe;

import com.sun.jna.Pointer;

/**
 * Collects libbpf's log (which carries the kernel verifier's message when a load fails), so that
 * errors can quote it; warnings also go to stderr. Installed once per process.
 */
final class LibbpfLog {
    private static final int WARN = 0, INFO = 1;
    private static final StringBuilder BUFFER = new StringBuilder();
    /** Kept in a field: JNA callbacks must stay reachable while native code may call them. */
    private static final Libbpf.PrintFn PRINT = LibbpfLog::print;

    static {
        Libbpf.INSTANCE.libbpf_set_print(PRINT);
    }

    private LibbpfLog() {}

    private static int print(int level, Pointer format, Pointer args) {
        if (level > INFO) return 0;
        byte[] buf = new byte[8192];
        int n = LibC.INSTANCE.vsnprintf(buf, buf.length, format, args);
        String s = new String(buf, 0, Math.max(0, Math.min(n, buf.length - 1)));
        synchronized (BUFFER) {
            if (BUFFER.length() < 256 * 1024) BUFFER.append(s);
        }
        if (level == WARN) System.err.print("libbpf: " + s);
        return 0;
    }

    static void clear() {
        synchronized (BUFFER) { BUFFER.setLength(0); }
    }

    static String take() {
        synchronized (BUFFER) {
            String s = BUFFER.toString().strip();
            BUFFER.setLength(0);
            // the verifier log can be long; the end holds the reason
            return s.length() > 6000 ? "...\n" + s.substring(s.length() - 6000) : s;
        }
    }
}
