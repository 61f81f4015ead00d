package io.hlctrace.agent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every hook of the agent: which JDK method, and which static entry point of {@link SocketHooks},
 * {@link NioHooks} or {@link UdpHooks} is called at its entry and at its exits. {@link HookWeaver}
 * inlines the calls into the class file. This table holds no ASM type, so a JVM that takes every
 * hooked class from the class cache never loads ASM.
 *
 * <p>A call's arguments are named: {@code this}, {@code arg0}..., {@code field:<name>} (a field of
 * the hooked object), {@code local0}... (a value the entry calls keep for the exit calls; its type
 * is in {@link Hook#locals}), {@code return} (the method's return value, at an exit) and
 * {@code const:<text>} (a string). A call's result goes to {@code void} (there is none),
 * {@code skip} (at entry: a {@code long} that is 0 to run the method, else its result plus
 * {@link SocketHooks#HANDLED}; a {@code boolean} that is true to skip a void method),
 * {@code return} (at an exit: the method's new return value), {@code argN} or {@code localN}.
 */
final class HookTable {
    private static final String SOCKET = "io/hlctrace/agent/SocketHooks";
    private static final String NIO = "io/hlctrace/agent/NioHooks";
    private static final String UDP = "io/hlctrace/agent/UdpHooks";
    private static final String UDP_SEND = "Lio/hlctrace/agent/UdpHooks$UdpSend;";

    /** A static call: owner, name and descriptor of the entry point, its arguments, where its result goes. */
    static final class Call {
        final String owner;
        final String name;
        final String desc;
        final String[] args;
        final String result;

        Call(String owner, String name, String desc, String result, String... args) {
            this.owner = owner;
            this.name = name;
            this.desc = desc;
            this.args = args;
            this.result = result;
        }

        /** No call: the one argument is stored where the result goes. */
        static Call copy(String from, String to) {
            return new Call(null, null, null, to, from);
        }

        @Override
        public String toString() {
            return owner == null ? args[0] + " -> " + result : owner.substring(owner.lastIndexOf('/') + 1) + "." + name + desc;
        }
    }

    /** The calls woven into one JDK method (or each method of that name whose descriptor starts with {@code desc}). */
    static final class Hook {
        final String type;
        final String method;
        /** The method's descriptor, or its start (the arguments) for any return type; null for any. */
        final String desc;
        final String[] locals;
        final Call[] enter;
        final Call[] exit;
        /** The exit calls run also when the method throws (with {@code return} 0), and the exception goes on. */
        final boolean exitOnThrow;

        Hook(String type, String method, String desc, String[] locals, Call[] enter, Call[] exit, boolean exitOnThrow) {
            this.type = type.replace('.', '/');
            this.method = method;
            this.desc = desc;
            this.locals = locals;
            this.enter = enter;
            this.exit = exit;
            this.exitOnThrow = exitOnThrow;
        }

        boolean matches(String name, String descriptor) {
            return method.equals(name) && (desc == null || descriptor.startsWith(desc));
        }

        @Override
        public String toString() {
            return type.replace('/', '.') + "." + method + (desc == null ? "" : desc);
        }
    }

    private static final Call[] NONE = {};
    private static final String[] NO_LOCALS = {};

    /** At entry; with result {@code skip}, the hook may do the method's work itself and return its result instead. */
    private static Hook atEntry(String type, String method, String desc, Call call) {
        return new Hook(type, method, desc, NO_LOCALS, new Call[] {call}, NONE, false);
    }

    /** At every normal return. */
    private static Hook after(String type, String method, String desc, Call call) {
        return new Hook(type, method, desc, NO_LOCALS, NONE, new Call[] {call}, false);
    }

    /** At every return and when the method throws. */
    private static Hook afterAlways(String type, String method, String desc, Call call) {
        return new Hook(type, method, desc, NO_LOCALS, NONE, new Call[] {call}, true);
    }

    /** APIs whose bytes the agent cannot see: one warning when first used (native transports do their I/O in C). */
    static final String[] UNCOVERED_TYPES = {"sun.nio.ch.UnixAsynchronousSocketChannelImpl", "sun.nio.ch.UnixAsynchronousServerSocketChannelImpl",
            "io.netty.channel.epoll.EpollSocketChannel", "io.netty.channel.epoll.EpollServerSocketChannel", "io.netty.channel.epoll.EpollDatagramChannel",
            "io.netty.incubator.channel.uring.IOUringSocketChannel", "io.netty.channel.uring.IoUringSocketChannel"};

    static final List<Hook> ALL = new ArrayList<>();

    static {
        String in = "java.net.Socket$SocketInputStream";
        String out = "java.net.Socket$SocketOutputStream";
        // java.net.Socket streams: one write is one message; reads strip the header and merge the clock
        ALL.add(atEntry(in, "read", "([BII)I", new Call(SOCKET, "read", "(Ljava/net/Socket;Ljava/io/InputStream;[BII)J", "skip",
                "field:parent", "field:in", "arg0", "arg1", "arg2")));
        ALL.add(atEntry(in, "available", "()I", new Call(SOCKET, "available", "(Ljava/net/Socket;Ljava/io/InputStream;)J", "skip",
                "field:parent", "field:in")));
        ALL.add(atEntry(out, "write", "([BII)V", new Call(SOCKET, "write", "(Ljava/net/Socket;Ljava/io/OutputStream;[BII)Z", "skip",
                "field:parent", "field:out", "arg0", "arg1", "arg2")));
        ALL.add(after("java.net.Socket", "connect", "(Ljava/net/SocketAddress;I)", new Call(SOCKET, "connected", "(Ljava/net/Socket;)V", "void", "this")));
        ALL.add(afterAlways("java.net.Socket", "close", "()V", new Call(SOCKET, "closed", "(Ljava/net/Socket;)V", "void", "this")));
        // accept() and the overrides of subclasses (SSLServerSocket) all end in implAccept(Socket)
        ALL.add(after("java.net.ServerSocket", "implAccept", "(Ljava/net/Socket;)", new Call(SOCKET, "accepted", "(Ljava/net/Socket;)V", "void", "arg0")));
        ALL.add(after("java.net.ServerSocket", "bind", "(Ljava/net/SocketAddress;I)", new Call(SOCKET, "bound", "(Ljava/net/ServerSocket;)V", "void", "this")));
        // before: the port is read before close forgets it
        ALL.add(atEntry("java.net.ServerSocket", "close", "()V", new Call(SOCKET, "serverClosed", "(Ljava/net/ServerSocket;)V", "void", "this")));

        String ch = "sun.nio.ch.SocketChannelImpl";
        String sc = "Ljava/nio/channels/SocketChannel;";
        ALL.add(atEntry(ch, "read", "(Ljava/nio/ByteBuffer;)", new Call(NIO, "read", "(" + sc + "Ljava/nio/ByteBuffer;)J", "skip", "this", "arg0")));
        ALL.add(atEntry(ch, "read", "([Ljava/nio/ByteBuffer;II)", new Call(NIO, "read", "(" + sc + "[Ljava/nio/ByteBuffer;II)J", "skip",
                "this", "arg0", "arg1", "arg2")));
        ALL.add(atEntry(ch, "write", "(Ljava/nio/ByteBuffer;)", new Call(NIO, "write", "(" + sc + "Ljava/nio/ByteBuffer;)J", "skip", "this", "arg0")));
        ALL.add(atEntry(ch, "write", "([Ljava/nio/ByteBuffer;II)", new Call(NIO, "write", "(" + sc + "[Ljava/nio/ByteBuffer;II)J", "skip",
                "this", "arg0", "arg1", "arg2")));
        // the socket adaptor's streams (SocketChannel.socket())
        ALL.add(atEntry(ch, "blockingRead", "([BIIJ)", new Call(NIO, "adaptorRead", "(" + sc + "[BIIJ)J", "skip", "this", "arg0", "arg1", "arg2", "arg3")));
        ALL.add(atEntry(ch, "blockingWriteFully", "([BII)V", new Call(NIO, "adaptorWrite", "(" + sc + "[BII)Z", "skip", "this", "arg0", "arg1", "arg2")));
        ALL.add(after(ch, "connect", "(Ljava/net/SocketAddress;)Z", new Call(NIO, "connected", "(" + sc + "Z)V", "void", "this", "return")));
        ALL.add(after(ch, "finishConnect", "()Z", new Call(NIO, "connected", "(" + sc + "Z)V", "void", "this", "return")));
        ALL.add(after(ch, "blockingConnect", "(Ljava/net/SocketAddress;J)", new Call(NIO, "connected", "(" + sc + ")V", "void", "this")));
        // the constructor that ServerSocketChannel.accept uses
        ALL.add(after(ch, "<init>", "(Ljava/nio/channels/spi/SelectorProvider;Ljava/net/ProtocolFamily;Ljava/io/FileDescriptor;Ljava/net/SocketAddress;)",
                new Call(NIO, "accepted", "(" + sc + ")V", "void", "this")));
        ALL.add(afterAlways(ch, "implCloseSelectableChannel", "()V", new Call(NIO, "closed", "(" + sc + ")V", "void", "this")));
        ALL.add(after("sun.nio.ch.ServerSocketChannelImpl", "bind", "(Ljava/net/SocketAddress;I)",
                new Call(NIO, "bound", "(Ljava/nio/channels/ServerSocketChannel;)V", "void", "this")));

        // every datagram of DatagramChannel and DatagramSocket passes these private methods
        String dc = "sun.nio.ch.DatagramChannelImpl";
        String dch = "Ljava/nio/channels/DatagramChannel;";
        ALL.add(new Hook(dc, "send", "(Ljava/io/FileDescriptor;Ljava/nio/ByteBuffer;Ljava/net/InetSocketAddress;)I", new String[] {UDP_SEND},
                new Call[] {
                    new Call(UDP, "frame", "(" + dch + "Ljava/nio/ByteBuffer;Ljava/net/InetSocketAddress;)" + UDP_SEND, "local0", "this", "arg1", "arg2"),
                    new Call(UDP, "buffer", "(" + UDP_SEND + "Ljava/nio/ByteBuffer;)Ljava/nio/ByteBuffer;", "arg1", "local0", "arg1")},
                new Call[] {new Call(UDP, "sent", "(" + UDP_SEND + "I)I", "return", "local0", "return")}, true));
        ALL.add(new Hook(dc, "receive", "(Ljava/nio/ByteBuffer;Z)I", new String[] {"Ljava/nio/ByteBuffer;"},
                new Call[] {Call.copy("arg0", "local0"),
                    new Call(UDP, "receiveBuffer", "(Ljava/nio/ByteBuffer;)Ljava/nio/ByteBuffer;", "arg0", "arg0")},
                new Call[] {new Call(UDP, "received", "(" + dch + "Ljava/nio/ByteBuffer;Ljava/nio/ByteBuffer;ILjava/lang/Object;)I", "return",
                    "this", "local0", "arg0", "return", "field:sourceSockAddr")}, false));
        ALL.add(after(dc, "bind", "(Ljava/net/SocketAddress;)" + dch, new Call(UDP, "bound", "(" + dch + ")V", "void", "this")));
        for (String m : new String[] {"read", "write"}) {
            ALL.add(after(dc, m, "(Ljava/nio/ByteBuffer;)I", new Call(SOCKET, "uncovered", "(Ljava/lang/String;)V", "void", "const:" + dc + "." + m)));
        }

        // transferTo/transferFrom with a socket channel: copied through the hooked read and write
        // instead of past the agent by the kernel (sendfile, splice)
        String fc = "sun.nio.ch.FileChannelImpl";
        ALL.add(atEntry(fc, "transferTo", "(JJLjava/nio/channels/WritableByteChannel;)J", new Call(NIO, "transferTo",
                "(Ljava/nio/channels/FileChannel;JJLjava/nio/channels/WritableByteChannel;)J", "skip", "this", "arg0", "arg1", "arg2")));
        ALL.add(atEntry(fc, "transferFrom", "(Ljava/nio/channels/ReadableByteChannel;JJ)J", new Call(NIO, "transferFrom",
                "(Ljava/nio/channels/FileChannel;Ljava/nio/channels/ReadableByteChannel;JJ)J", "skip", "this", "arg0", "arg1", "arg2")));

        for (String type : UNCOVERED_TYPES) {
            ALL.add(after(type, "<init>", null, new Call(SOCKET, "uncovered", "(Ljava/lang/String;)V", "void", "const:" + type)));
        }
    }

    private static final Map<String, List<Hook>> BY_TYPE = new HashMap<>();
    /** The JDK types hooked at start-up (loaded first, then retransformed): the table's types but the uncovered APIs'. */
    static final String[] JDK_TYPES;

    static {
        List<String> jdkTypes = new ArrayList<>();
        List<String> uncovered = List.of(UNCOVERED_TYPES);
        for (Hook h : ALL) {
            List<Hook> list = BY_TYPE.get(h.type);
            if (list == null) {
                BY_TYPE.put(h.type, list = new ArrayList<>());
                String name = h.type.replace('/', '.');
                if (!uncovered.contains(name)) jdkTypes.add(name);
            }
            list.add(h);
        }
        JDK_TYPES = jdkTypes.toArray(new String[0]);
    }

    private HookTable() {}

    /** The hooks of a type (internal name a/b/C), or null. */
    static List<Hook> of(String internalName) {
        return BY_TYPE.get(internalName);
    }
}
