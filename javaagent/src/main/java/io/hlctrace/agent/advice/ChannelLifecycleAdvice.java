package io.hlctrace.agent.advice;

import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

import io.hlctrace.agent.NioHooks;
import net.bytebuddy.asm.Advice;

/** Connection lifecycle of SocketChannelImpl / ServerSocketChannelImpl. */
public final class ChannelLifecycleAdvice {
    private ChannelLifecycleAdvice() {}

    /** connect(SocketAddress) and finishConnect(): true once connected. */
    public static final class Connect {
        @Advice.OnMethodExit
        public static void exit(@Advice.This SocketChannel self, @Advice.Return boolean done) {
            NioHooks.connected(self, done);
        }
    }

    /** blockingConnect(SocketAddress,long): the socket adaptor's connect. */
    public static final class BlockingConnect {
        @Advice.OnMethodExit
        public static void exit(@Advice.This SocketChannel self) {
            NioHooks.connected(self, true);
        }
    }

    /** The constructor that accept() uses: (SelectorProvider, ProtocolFamily, FileDescriptor, SocketAddress). */
    public static final class Accepted {
        @Advice.OnMethodExit
        public static void exit(@Advice.This SocketChannel self) {
            NioHooks.accepted(self);
        }
    }

    /** implCloseSelectableChannel(). */
    public static final class Close {
        @Advice.OnMethodExit(onThrowable = Throwable.class)
        public static void exit(@Advice.This SocketChannel self) {
            NioHooks.closed(self);
        }
    }

    /** ServerSocketChannelImpl.bind(SocketAddress,int). */
    public static final class Bind {
        @Advice.OnMethodExit
        public static void exit(@Advice.This ServerSocketChannel self) {
            NioHooks.bound(self);
        }
    }
}
