package io.hlctrace.agent.advice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import io.hlctrace.agent.NioHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into sun.nio.ch.SocketChannelImpl.write(ByteBuffer). */
public final class ChannelWriteAdvice {
    private ChannelWriteAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    public static long enter(@Advice.This SocketChannel self, @Advice.Argument(0) ByteBuffer src) throws IOException {
        return NioHooks.write(self, src);
    }

    @Advice.OnMethodExit
    public static void exit(@Advice.Enter long handled, @Advice.Return(readOnly = false) int result) {
        if (handled != 0) result = (int) (handled - NioHooks.HANDLED);
    }
}
