package io.hlctrace.hlc;

/** A source of physical time: nanoseconds since the Unix epoch, in the UTC time scale. */
@FunctionalInterface
public interface PhysicalClock {
    long nanos();
}
