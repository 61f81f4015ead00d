package io.hlctrace.agent.advice;

import java.io.IOException;
import java.nio.channels.SocketChannel;

import io.hlctrace.agent.NioHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into sun.nio.ch.SocketChannelImpl.blockingRead(byte[],int,int,long): the socket adaptor's input stream. */
public final class AdaptorReadAdvice {
    private AdaptorReadAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    public static long enter(@Advice.This SocketChannel self, @Advice.Argument(0) byte[] b, @Advice.Argument(1) int off,
                             @Advice.Argument(2) int len, @Advice.Argument(3) long nanos) throws IOException {
        if (NioHooks.bypass()) return 0;
        return NioHooks.adaptorRead(self, b, off, len, nanos);
    }

    @Advice.OnMethodExit
    public static void exit(@Advice.Enter long handled, @Advice.Return(readOnly = false) int result) {
        if (handled != 0) result = (int) (handled - NioHooks.HANDLED);
    }
}
