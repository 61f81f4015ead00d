package io.hlctrace.agent.advice;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into java.net.Socket$SocketInputStream.read(byte[],int,int): reads via the agent's framing. */
public final class SocketInputReadAdvice {
    private SocketInputReadAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    public static long enter(@Advice.FieldValue("parent") Socket parent, @Advice.FieldValue("in") InputStream in,
                             @Advice.Argument(0) byte[] b, @Advice.Argument(1) int off, @Advice.Argument(2) int len) throws IOException {
        return SocketHooks.read(parent, in, b, off, len);
    }

    @Advice.OnMethodExit
    public static void exit(@Advice.Enter long handled, @Advice.Return(readOnly = false) int result) {
        if (handled != 0) result = (int) (handled - SocketHooks.HANDLED);
    }
}
