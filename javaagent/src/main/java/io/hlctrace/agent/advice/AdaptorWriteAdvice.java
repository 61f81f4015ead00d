package io.hlctrace.agent.advice;

import java.io.IOException;
import java.nio.channels.SocketChannel;

import io.hlctrace.agent.NioHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into sun.nio.ch.SocketChannelImpl.blockingWriteFully(byte[],int,int): the socket adaptor's output stream. */
public final class AdaptorWriteAdvice {
    private AdaptorWriteAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    public static boolean enter(@Advice.This SocketChannel self, @Advice.Argument(0) byte[] b, @Advice.Argument(1) int off,
                                @Advice.Argument(2) int len) throws IOException {
        if (NioHooks.bypass()) return false;
        return NioHooks.adaptorWrite(self, b, off, len);
    }
}
