package io.hlctrace.hlc;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationTextTest {
    @Test
    void unitsAndSigns() {
        assertEquals(Duration.ofMillis(1500), DurationText.parse("1.5s"));
        assertEquals(Duration.ofHours(-2), DurationText.parse("-2h"));
        assertEquals(Duration.ofNanos(-10_000), DurationText.parse("-10us"));
        assertEquals(Duration.ofNanos(250_000), DurationText.parse("250µs"));
        assertEquals(Duration.ofMinutes(3), DurationText.parse(" 3 min "));
        assertEquals(Duration.ofNanos(10), DurationText.parse("10ns"));
        assertEquals(Duration.ZERO, DurationText.parse("0"));
    }

    @Test
    void refusesWhatIsAmbiguousOrWrongSayingWhy() {
        var e = assertThrows(IllegalArgumentException.class, () -> DurationText.parse("120"));
        assertTrue(e.getMessage().contains("no unit"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DurationText.parse("5 parsecs"));
        assertTrue(e.getMessage().contains("500ms"), e.getMessage());
    }
}
