package io.hlctrace.timeline;

/** One edge of the happened-before graph: {@code from} happened before {@code to}. */
public record Edge(Event from, Event to, Kind kind) {
    public enum Kind {
        /** consecutive events of one process, by seq */
        PROCESS,
        /** a send and its receive (same msg id, or overlapping byte ranges of one connection direction) */
        MESSAGE
    }
}
