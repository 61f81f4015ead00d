package io.hlctrace.hlc;

import java.time.Clock;
import java.time.Instant;

/** CLOCK_REALTIME at the best resolution the JDK gives (nanoseconds on Linux since JDK 15). */
public final class SystemPhysicalClock implements PhysicalClock {
    public static final SystemPhysicalClock INSTANCE = new SystemPhysicalClock();
    private static final Clock UTC = Clock.systemUTC();

    private SystemPhysicalClock() {}

    @Override
    public long nanos() {
        Instant now = UTC.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
