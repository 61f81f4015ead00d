package io.hlctrace.timeline;

import io.hlctrace.hlc.VectorClock;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The hand-rolled parser reads back every event the schema's writer can produce, and survives any bytes. */
class ParserPropertiesTest {
    @Provide
    Arbitrary<Event> events() {
        Arbitrary<String> text = Arbitraries.strings().all().ofMaxLength(20)
                .filter(s -> s.chars().noneMatch(c -> c >= 0xD800 && c <= 0xDFFF)); // lone surrogates are not UTF-8
        Arbitrary<Long> word = Arbitraries.longs();
        Arbitrary<Long> nonNegative = Arbitraries.longs().greaterOrEqual(0);
        return Combinators.combine(word, text, text, nonNegative, Arbitraries.of("send", "recv", "local", "drop", "connect"), Arbitraries.longs(),
                        text.injectNull(0.3), nonNegative.injectNull(0.5))
                .as((hlc, node, proc, seq, kind, pt, info, lamport) -> new Event(1, hlc, node, proc, seq, kind, pt, "agent",
                        info == null ? null : "00000000000000ab", "tcp", node, proc, 7, 0, 7, hlc == 0 ? 1 : hlc, seq % 2 == 0, seq % 3 == 0,
                        lamport == null ? -1 : lamport, lamport == null ? null : VectorClock.of(Map.of(proc.isEmpty() ? "x" : proc, lamport)),
                        0, info, "f", 1));
    }

    @Property(tries = 300)
    void writtenEventsParseBack(@ForAll("events") Event e) throws IOException {
        String line = e.toJsonLine();
        Diagnostics d = new Diagnostics();
        try (EventLogReader r = new EventLogReader(new ByteArrayInputStream((line + "\n").getBytes(StandardCharsets.UTF_8)), "f", d, new StringTable())) {
            Event back = r.next();
            assertTrue(d.isEmpty(), d + line);
            assertEquals(e, back, line);
            assertNull(r.next());
        }
    }

    @Property(tries = 300)
    void arbitraryBytesNeverThrow(@ForAll byte[] junk) throws IOException {
        Diagnostics d = new Diagnostics();
        try (EventLogReader r = new EventLogReader(new ByteArrayInputStream(junk), "junk", d, new StringTable())) {
            while (r.next() != null) { /* whatever parses is fine; nothing may throw */ }
        }
    }
}
