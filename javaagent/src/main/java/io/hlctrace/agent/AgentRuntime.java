package io.hlctrace.agent;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketAddress;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/** Everything the hooks need once the agent has started: config, clock, log, registry, connections. */
public final class AgentRuntime {
    final AgentConfig config;
    final Stamper stamper;
    final EventLog log;
    final PortRegistry registry; // null when off
    private final ConnectionMap<TcpConnection> connections = new ConnectionMap<>();
    /**
     * Each thread's I/O state, one ThreadLocal lookup per hooked call: its last looked-up connection
     * (a thread usually does I/O on one socket many times in a row, and this spares it the shared
     * map's look-up), and the bypass mark set around the agent's own raw channel I/O.
     */
    static final class IoState {
        /** Set while the agent itself does I/O on a channel: the hooks let the call through. */
        boolean bypass;
        Object key;
        TcpConnection conn;
    }

    static final ThreadLocal<IoState> IO = new ThreadLocal<>() {
        @Override
        protected IoState initialValue() {
            return new IoState();
        }
    };
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
        IoState lc = IO.get();
        TcpConnection c = lc.conn;
        if (lc.key == s && !c.removed) return c;
        c = connections.get(s);
        if (c == null) {
            c = newConnection(s, false, true);
        }
        lc.key = s;
        lc.conn = c;
        return c;
    }

    TcpConnection newConnection(Socket s, boolean accepted, boolean preexisting) {
        SocketAddress l = s.getLocalSocketAddress();
        SocketAddress r = s.getRemoteSocketAddress();
        TcpConnection c = new TcpConnection(this, l instanceof InetSocketAddress il ? il : null,
                r instanceof InetSocketAddress ir ? ir : null, accepted, preexisting);
        TcpConnection raced = connections.putIfAbsent(s, c);
        return raced != null ? raced : c;
    }

    TcpConnection connectionOf(Object channel) {
        return connectionOf(channel, IO.get());
    }

    TcpConnection connectionOf(Object channel, IoState lc) {
        TcpConnection c = lc.conn;
        if (lc.key == channel && !c.removed) return c;
        c = connections.get(channel);
        if (c != null) {
            lc.key = channel;
            lc.conn = c;
        }
        return c;
    }

    /** A channel's connection; a connected channel first seen at I/O time was opened before the agent attached. */
    TcpConnection newChannelConnection(Object channel, InetSocketAddress local, InetSocketAddress remote, boolean accepted, boolean preexisting) {
        TcpConnection c = new TcpConnection(this, local, remote, accepted, preexisting);
        TcpConnection raced = connections.putIfAbsent(channel, c);
        return raced != null ? raced : c;
    }

    TcpConnection removeChannel(Object channel) {
        TcpConnection c = connections.remove(channel);
        if (c != null) c.removed = true; // drops it from every thread's LastConnection
        return c;
    }

    TcpConnection remove(Socket s) {
        return removeChannel(s);
    }
}
