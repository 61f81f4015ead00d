package io.hlctrace.timeline;

/**
 * A problem with the input, located: {@code file:line: what}. Errors mean an event was not
 * processed (or processed twice); warnings mean it was processed but something was odd.
 */
public record Diagnostic(Severity severity, String file, long line, String what) {
    public enum Severity { WARNING, ERROR }

    @Override
    public String toString() {
        return (line > 0 ? file + ":" + line : file) + ": " + (severity == Severity.WARNING ? "warning: " : "") + what;
    }
}
