package io.hlctrace.agent.advice;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into java.net.Socket$SocketInputStream.available(): counts payload bytes, never header bytes. */
public final class SocketInputAvailableAdvice {
    private SocketInputAvailableAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    public static long enter(@Advice.FieldValue("parent") Socket parent, @Advice.FieldValue("in") InputStream in) throws IOException {
        return SocketHooks.available(parent, in);
    }

    @Advice.OnMethodExit
    public static void exit(@Advice.Enter long handled, @Advice.Return(readOnly = false) int result) {
        if (handled != 0) result = (int) (handled - SocketHooks.HANDLED);
    }
}
