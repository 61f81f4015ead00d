package io.hlctrace.agent;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The connections of sockets and channels, by identity, without keeping a socket alive. A look-up
 * takes no lock: an event loop's threads look up a different channel on nearly every call, and
 * with the synchronized {@code WeakHashMap} used before they took turns on one monitor (0.25 us of
 * a 4.3 us round trip in the benchmark's {@code loops-nio}, two threads with 16 channels each).
 * Entries of sockets collected without a close are removed at the next put or remove.
 */
final class ConnectionMap<C> {
    private final ConcurrentHashMap<Object, C> map = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

    C get(Object socket) {
        return map.get(new Lookup(socket));
    }

    /** Puts {@code c} unless the socket has a connection already; returns that one, or null. */
    C putIfAbsent(Object socket, C c) {
        expungeCollected();
        return map.putIfAbsent(new Key(socket, collected), c);
    }

    C remove(Object socket) {
        expungeCollected();
        return map.remove(new Lookup(socket));
    }

    /** Entries, collected sockets' included until the next put or remove (tests). */
    int size() {
        return map.size();
    }

    private void expungeCollected() {
        for (Reference<?> r; (r = collected.poll()) != null;) map.remove(r);
    }

    /** The stored key: equal to a {@link Lookup} or a Key of the same socket, and to itself once collected. */
    private static final class Key extends WeakReference<Object> {
        private final int hash;

        Key(Object socket, ReferenceQueue<Object> queue) {
            super(socket, queue);
            hash = System.identityHashCode(socket);
        }

        @Override
        public int hashCode() { return hash; }

        @Override
        public boolean equals(Object o) {
            if (o == this) return true;
            Object s = get();
            return s != null && (o instanceof Key k ? k.get() == s : o instanceof Lookup l && l.socket == s);
        }
    }

    /** A look-up's key: allocated per call, and removed by escape analysis once the call is compiled. */
    private static final class Lookup {
        private final Object socket;
        private final int hash;

        Lookup(Object socket) {
            this.socket = socket;
            hash = System.identityHashCode(socket);
        }

        @Override
        public int hashCode() { return hash; }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.get() == socket;
        }
    }
}
