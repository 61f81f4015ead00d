package io.hlctrace.agent.advice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import io.hlctrace.agent.NioHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into sun.nio.ch.SocketChannelImpl.write(ByteBuffer[],int,int): one message per call. */
public final class ChannelGatherWriteAdvice {
    private ChannelGatherWriteAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    public static long enter(@Advice.This SocketChannel self, @Advice.Argument(0) ByteBuffer[] srcs,
                             @Advice.Argument(1) int offset, @Advice.Argument(2) int length) throws IOException {
        return NioHooks.write(self, srcs, offset, length);
    }

    @Advice.OnMethodExit
    public static void exit(@Advice.Enter long handled, @Advice.Return(readOnly = false) long result) {
        if (handled != 0) result = handled - NioHooks.HANDLED;
    }
}
