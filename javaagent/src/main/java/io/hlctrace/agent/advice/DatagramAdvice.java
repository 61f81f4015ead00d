package io.hlctrace.agent.advice;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

import io.hlctrace.agent.UdpHooks;
import net.bytebuddy.asm.Advice;

/** sun.nio.ch.DatagramChannelImpl: every datagram of DatagramChannel and DatagramSocket passes these private methods. */
public final class DatagramAdvice {
    private DatagramAdvice() {}

    /** private int send(FileDescriptor, ByteBuffer, InetSocketAddress): stamped before it leaves, a framed copy sent instead. */
    public static final class Send {
        @Advice.OnMethodEnter
        public static UdpHooks.UdpSend enter(@Advice.This DatagramChannel self, @Advice.Argument(value = 1, readOnly = false) ByteBuffer src,
                                             @Advice.Argument(2) InetSocketAddress target) {
            UdpHooks.UdpSend s = UdpHooks.frame(self, src, target);
            if (s != null) src = s.buffer(src);
            return s;
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class)
        public static void exit(@Advice.Enter UdpHooks.UdpSend s, @Advice.Return(readOnly = false) int n) {
            if (s != null) n = UdpHooks.sent(s, n);
        }
    }

    /** private int receive(ByteBuffer, boolean): receives into a buffer with room for a header. */
    public static final class Receive {
        @Advice.OnMethodEnter
        public static ByteBuffer enter(@Advice.Argument(value = 0, readOnly = false) ByteBuffer dst) {
            ByteBuffer tmp = UdpHooks.receiveBuffer(dst);
            if (tmp == null) return null;
            ByteBuffer original = dst;
            dst = tmp;
            return original;
        }

        @Advice.OnMethodExit
        public static void exit(@Advice.This DatagramChannel self, @Advice.Enter ByteBuffer original,
                                @Advice.Argument(0) ByteBuffer tmp, @Advice.FieldValue("sourceSockAddr") Object source,
                                @Advice.Return(readOnly = false) int n) {
            if (original != null) n = UdpHooks.received(self, original, tmp, n, source);
        }
    }

    /** bind(SocketAddress): registers the UDP port as instrumented on this executor. */
    public static final class Bind {
        @Advice.OnMethodExit
        public static void exit(@Advice.This DatagramChannel self) {
            UdpHooks.bound(self);
        }
    }
}
