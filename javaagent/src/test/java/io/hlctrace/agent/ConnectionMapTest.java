package io.hlctrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConnectionMapTest {
    /** Stands for a TcpConnection: the map only stores and returns it. */
    private static Object connection() {
        return new Object();
    }

    @Test
    void keysAreIdentitiesNotEquality() {
        ConnectionMap<Object> m = new ConnectionMap<>();
        String a = new String("socket"), b = new String("socket"); // equal, two objects
        Object ca = connection(), cb = connection();
        assertNull(m.putIfAbsent(a, ca));
        assertNull(m.putIfAbsent(b, cb));
        assertSame(ca, m.get(a));
        assertSame(cb, m.get(b));
        assertSame(ca, m.putIfAbsent(a, connection()), "the first connection of a socket stays");
        assertSame(ca, m.remove(a));
        assertNull(m.get(a));
        assertSame(cb, m.get(b));
    }

    @Test
    void aCollectedSocketsEntryGoesAtTheNextPut() throws InterruptedException {
        ConnectionMap<Object> m = new ConnectionMap<>();
        Object kept = new Object();
        m.putIfAbsent(kept, connection());
        m.putIfAbsent(new Object(), connection()); // never closed, nothing refers to it
        assertEquals(2, m.size());
        long end = System.nanoTime() + 10_000_000_000L;
        while (m.size() > 1 && System.nanoTime() < end) {
            System.gc();
            Thread.sleep(20);
            m.remove(new Object()); // expunges what the collector has queued
        }
        assertEquals(1, m.size(), "the entry of the collected socket is gone");
        assertTrue(m.get(kept) != null, "a live socket keeps its connection");
    }
}
