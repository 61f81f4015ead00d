package io.hlctrace.demo.compare;

import io.hlctrace.hlc.AtomicClockCell;
import io.hlctrace.hlc.EventLogLine;
import io.hlctrace.hlc.HlcTimestamp;
import io.hlctrace.hlc.HybridLogicalClock;
import io.hlctrace.hlc.ManualPhysicalClock;
import io.hlctrace.hlc.PhysicalClock;
import io.hlctrace.hlc.SkewedPhysicalClock;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An in-process run of executors with wrong clocks, stamped by the real hlc classes: each executor
 * has one {@link HybridLogicalClock} over a {@link SkewedPhysicalClock}-formula physical clock on a
 * shared {@link ManualPhysicalClock} that is real time. It writes the same event logs as the agent
 * (docs/event-log.md, through {@link EventLogLine}) and keeps what only a simulation knows: the real
 * time of every event and the happened-before edges, so the comparison can be checked against truth.
 */
public final class Simulation {
    private final ManualPhysicalClock realTime;
    private final Duration maxOffset;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<EventGraph.Event> events = new ArrayList<>();
    private final List<EventGraph.Edge> edges = new ArrayList<>();
    private final Map<Proc, List<String>> lines = new LinkedHashMap<>();
    private long nextMessageId = 1;
    private int nextPort = 40000;
    private long refused;

    /** Real time starts at {@code startNanos}; {@code maxOffset} is the guard of every executor clock. */
    public Simulation(long startNanos, Duration maxOffset) {
        this.realTime = new ManualPhysicalClock(startNanos);
        this.maxOffset = maxOffset;
    }

    public long now() { return realTime.nanos(); }

    public void advance(long nanos) {
        if (nanos < 0) throw new IllegalArgumentException("real time does not go back: " + nanos);
        realTime.advance(nanos);
    }

    public long refusedCount() { return refused; }

    /** An executor whose physical clock reads real time + offset, drifting {@code driftPpm} from now. */
    public Node node(String name, String address, long offsetNanos, double driftPpm) {
        Node n = new Node(name, address);
        n.setSkew(offsetNanos, driftPpm);
        nodes.put(name, n);
        return n;
    }

    public final class Node {
        final String name;
        final String address;
        private volatile long offsetNanos;
        private volatile long driftPpb;
        private volatile long driftEpoch;
        final PhysicalClock physical = () -> SkewedPhysicalClock.apply(realTime.nanos(), offsetNanos, driftPpb, driftEpoch);
        final AtomicClockCell cell = new AtomicClockCell();
        final HybridLogicalClock clock = new HybridLogicalClock(cell, physical, maxOffset);

        Node(String name, String address) {
            this.name = name;
            this.address = address;
        }

        /** Sets the clock error from now on: what a clock sync does (offset 0) and what a bad oscillator undoes. */
        public void setSkew(long offsetNanos, double driftPpm) {
            this.offsetNanos = offsetNanos;
            this.driftPpb = Math.round(driftPpm * 1000);
            this.driftEpoch = realTime.nanos();
        }

        /** Sets the executor's HLC word (the seed-000 case starts every node at a shared HLC). */
        public void setHlc(long word) {
            cell.compareAndSet(cell.get(), word);
        }

        public Proc proc(String name) {
            Proc p = new Proc(this, name);
            lines.put(p, new ArrayList<>());
            return p;
        }

        public long physicalNanos() { return physical.nanos(); }
        public String name() { return name; }
    }

    public final class Proc {
        final Node node;
        final String name;
        long seq;
        int lastEvent = -1;

        Proc(Node node, String name) {
            this.node = node;
            this.name = name;
        }

        public int local(String info) {
            long ts = node.clock.now();
            return record(this, EventLogLine.KIND_LOCAL, ts, null, line -> line.str(EventLogLine.INFO, info));
        }

        public String name() { return name; }
        public Node node() { return node; }
    }

    /** A TCP connection: client side and server side, with byte offsets per direction. */
    public final class Connection {
        final Proc client, server;
        final String clientAddr, serverAddr;
        long upBytes, downBytes;
        int messages;

        Connection(Proc client, Proc server, String clientAddr, String serverAddr) {
            this.client = client;
            this.server = server;
            this.clientAddr = clientAddr;
            this.serverAddr = serverAddr;
        }

        /** Client sends {@code bytes} to the server; it arrives after {@code latencyNanos}. Returns the receive's event index. */
        public int clientToServer(int bytes, long latencyNanos) {
            messages++;
            long start = upBytes;
            upBytes += bytes;
            return message(client, clientAddr, server, serverAddr, bytes, start, latencyNanos);
        }

        public int serverToClient(int bytes, long latencyNanos) {
            messages++;
            long start = downBytes;
            downBytes += bytes;
            return message(server, serverAddr, client, clientAddr, bytes, start, latencyNanos);
        }

        /** A request and its response, with {@code serviceNanos} of work on the server between them. */
        public void request(int reqBytes, int respBytes, long latencyNanos, long serviceNanos) {
            clientToServer(reqBytes, latencyNanos);
            advance(serviceNanos);
            serverToClient(respBytes, latencyNanos);
        }

        public void close(long latencyNanos) {
            long ts = client.node.clock.now();
            record(client, EventLogLine.KIND_CLOSE, ts, clientAddr + ">" + serverAddr, line -> line.conn("tcp", clientAddr, serverAddr));
            advance(latencyNanos);
            long ts2 = server.node.clock.now();
            record(server, EventLogLine.KIND_CLOSE, ts2, serverAddr + ">" + clientAddr, line -> line.conn("tcp", serverAddr, clientAddr));
        }

        public int messages() { return messages; }
    }

    /** Opens a connection: connect on the client, accept on the server after the latency. */
    public Connection connect(Proc client, Proc server, int serverPort, long latencyNanos) {
        String c = client.node.address + ":" + (nextPort++);
        String s = server.node.address + ":" + serverPort;
        long ts = client.node.clock.now();
        record(client, EventLogLine.KIND_CONNECT, ts, c + ">" + s, line -> line.conn("tcp", c, s));
        advance(latencyNanos);
        long ts2 = server.node.clock.now();
        record(server, EventLogLine.KIND_ACCEPT, ts2, s + ">" + c, line -> line.conn("tcp", s, c));
        advance(1_000);
        return new Connection(client, server, c, s);
    }

    private int message(Proc from, String fromAddr, Proc to, String toAddr, int bytes, long offset, long latencyNanos) {
        long id = nextMessageId++;
        long sendTs = from.node.clock.now();
        int send = record(from, EventLogLine.KIND_SEND, sendTs, fromAddr + ">" + toAddr, line -> line.hex(EventLogLine.MSG, id)
                .conn("tcp", fromAddr, toAddr).num(EventLogLine.BYTES, bytes).range(EventLogLine.OFF, offset, offset + bytes));
        advance(latencyNanos);
        HybridLogicalClock.Update u = to.node.clock.update(sendTs);
        boolean wasRefused = u instanceof HybridLogicalClock.Refused;
        if (wasRefused) refused++;
        int recv = record(to, EventLogLine.KIND_RECV, u.timestamp(), toAddr + ">" + fromAddr, line -> {
            line.hex(EventLogLine.MSG, id).conn("tcp", toAddr, fromAddr).num(EventLogLine.BYTES, bytes)
                    .range(EventLogLine.OFF, offset, offset + bytes).hex(EventLogLine.RHLC, sendTs);
            if (wasRefused) line.bool(EventLogLine.REFUSED, true);
        });
        edges.add(new EventGraph.Edge(send, recv, EventGraph.EdgeKind.MESSAGE));
        advance(1_000);
        return recv;
    }

    private interface Fields { void add(EventLogLine line); }

    private int record(Proc p, String kind, long hlc, String conn, Fields fields) {
        long pt = p.node.physical.nanos();
        long seq = ++p.seq;
        int index = events.size();
        events.add(new EventGraph.Event(index, p.node.name, p.name, seq, kind, pt, hlc, realTime.nanos(), conn));
        if (p.lastEvent >= 0) edges.add(new EventGraph.Edge(p.lastEvent, index, EventGraph.EdgeKind.PROCESS));
        p.lastEvent = index;
        EventLogLine line = new EventLogLine().hlc(hlc).str(EventLogLine.NODE, p.node.name).str(EventLogLine.PROC, p.name)
                .num(EventLogLine.SEQ, seq).str(EventLogLine.KIND, kind).num(EventLogLine.PT, pt).str(EventLogLine.SRC, EventLogLine.SRC_AGENT);
        fields.add(line);
        lines.get(p).add(line.end());
        // distinct real times for distinct events, as on a real machine
        realTime.advance(1_000);
        return index;
    }

    public EventGraph graph() {
        return new EventGraph(events, edges);
    }

    /** Writes one event log per process into {@code dir} (created), as the agent would; returns the files. */
    public List<Path> writeLogs(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        for (var e : lines.entrySet()) {
            Path f = dir.resolve(e.getKey().node.name + "-" + e.getKey().name.replace(':', '-') + ".jsonl");
            Files.write(f, e.getValue(), StandardCharsets.UTF_8);
            files.add(f);
        }
        return files;
    }

    /** The HLC word of a wall-clock time, for setting shared starting HLCs. */
    public static long hlcAt(long nanos) {
        return HlcTimestamp.fromNanos(nanos);
    }
}
