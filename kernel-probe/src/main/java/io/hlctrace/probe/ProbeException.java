package io.hlctrace.probe;

/** An error for people: what failed and why (the message), and what to do about it (the remedy). */
public class ProbeException extends RuntimeException {
    private final String remedy;

    public ProbeException(String message, String remedy) {
        super(message);
        this.remedy = remedy;
    }

    public ProbeException(String message, String remedy, Throwable cause) {
        super(message, cause);
        this.remedy = remedy;
    }

    /** What the user can do about it; may be empty. */
    public String remedy() { return remedy; }

    /** The message and the remedy on two lines, as the daemon prints it. */
    public String describe() {
        return remedy == null || remedy.isEmpty() ? getMessage() : getMessage() + "\n  what to do: " + remedy;
    }
}
