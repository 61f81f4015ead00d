package io.hlctrace.timeline;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Collects diagnostics, keeping the first {@link #keepLimit} of them and counting the rest: a log
 * of ten million malformed lines must not become ten million diagnostics in memory.
 */
public class Diagnostics {
    public static final int DEFAULT_KEEP = 1000;

    private final int keepLimit;
    private final List<Diagnostic> kept = new ArrayList<>();
    private long errors;
    private long warnings;

    public Diagnostics() { this(DEFAULT_KEEP); }

    public Diagnostics(int keepLimit) { this.keepLimit = keepLimit; }

    public synchronized void error(String file, long line, String what) {
        errors++;
        add(new Diagnostic(Diagnostic.Severity.ERROR, file, line, what));
    }

    public synchronized void warning(String file, long line, String what) {
        warnings++;
        add(new Diagnostic(Diagnostic.Severity.WARNING, file, line, what));
    }

    private void add(Diagnostic d) {
        if (kept.size() < keepLimit) kept.add(d);
    }

    public synchronized List<Diagnostic> list() { return Collections.unmodifiableList(new ArrayList<>(kept)); }

    public synchronized long errorCount() { return errors; }

    public synchronized long warningCount() { return warnings; }

    public synchronized long total() { return errors + warnings; }

    /** How many were counted but not kept. */
    public synchronized long notKept() { return errors + warnings - kept.size(); }

    public synchronized boolean isEmpty() { return errors + warnings == 0; }

    @Override
    public synchronized String toString() {
        StringBuilder sb = new StringBuilder();
        for (Diagnostic d : kept) sb.append(d).append('\n');
        if (notKept() > 0) sb.append("... and ").append(notKept()).append(" more problems not listed\n");
        return sb.toString();
    }
}
