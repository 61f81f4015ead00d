package io.hlctrace.agent;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketAddress;
import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/** Everything the hooks need once the agent has started: config, clock, log, registry, connections. */
public final class AgentRuntime {
    final AgentConfig config;
    final Stamper stamper;
    final EventLog log;
    final PortRegistry registry; // null when off
    private final Map<Object, TcpConnection> connections = Collections.synchronizedMap(new WeakHashMap<>());
    private final long msgPrefix = ((long) ThreadLocalRandom.current().nextInt()) << 32;
    private final AtomicLong msgCounter = new AtomicLong();
    private final Set<InetAddress> localAddresses = new HashSet<>();

    AgentRuntime(AgentConfig config, Stamper stamper, EventLog log, PortRegistry registry) {
        this.config = config;
        this.stamper = stamper;
        this.log = log;
        this.registry = registry;
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                localAddresses.addAll(Collections.list(ni.getInetAddresses()));
            }
        } catch (SocketException e) {
            Agent.warn("cannot list the local addresses (" + e + "); only loopback peers are looked up in the port registry");
        }
    }

    long nextMessageId() {
        return msgPrefix | (msgCounter.incrementAndGet() & 0xFFFFFFFFL);
    }

    boolean peerInstrumented(InetAddress addr, int port) {
        for (PeerSelector p : config.peers) {
            if (p.matches(addr, port)) return true;
        }
        if (registry != null && (addr.isLoopbackAddress() || addr.isAnyLocalAddress() || localAddresses.contains(addr))) {
            return registry.isInstrumented(port);
        }
        return false;
    }

    boolean udpPeerInstrumented(InetAddress addr, int port) {
        for (PeerSelector p : config.peers) {
            if (p.matches(addr, port)) return true;
        }
        if (registry != null && (addr.isLoopbackAddress() || localAddresses.contains(addr))) {
            return registry.isUdpInstrumented(port);
        }
        return false;
    }

    /** The connection of a socket; one seen first at I/O time was opened before the agent attached. */
    TcpConnection connection(Socket s) {
        TcpConnection c = connections.get(s);
        if (c == null) {
            c = newConnection(s, false, true);
        }
        return c;
    }

    TcpConnection newConnection(Socket s, boolean accepted, boolean preexisting) {
        SocketAddress l = s.getLocalSocketAddress();
        SocketAddress r = s.getRemoteSocketAddress();
        TcpConnection c = new TcpConnection(this, l instanceof InetSocketAddress il ? il : null,
                r instanceof InetSocketAddress ir ? ir : null, accepted, preexisting);
        TcpConnection raced;
        synchronized (connections) {
            raced = connections.putIfAbsent(s, c);
        }
        return raced != null ? raced : c;
    }

    TcpConnection connectionOf(Object channel) {
        return connections.get(channel);
    }

    /** A channel's connection; a connected channel first seen at I/O time was opened before the agent attached. */
    TcpConnection newChannelConnection(Object channel, InetSocketAddress local, InetSocketAddress remote, boolean accepted, boolean preexisting) {
        TcpConnection c = new TcpConnection(this, local, remote, accepted, preexisting);
        TcpConnection raced;
        synchronized (connections) {
            raced = connections.putIfAbsent(channel, c);
        }
        return raced != null ? raced : c;
    }

    TcpConnection removeChannel(Object channel) {
        return connections.remove(channel);
    }

    TcpConnection remove(Socket s) {
        return connections.remove(s);
    }
}
