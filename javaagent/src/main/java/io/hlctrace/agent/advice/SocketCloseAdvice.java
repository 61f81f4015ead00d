package io.hlctrace.agent.advice;

import java.net.Socket;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/** On java.net.Socket.close(). */
public final class SocketCloseAdvice {
    private SocketCloseAdvice() {}

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    public static void exit(@Advice.This Socket self) {
        SocketHooks.closed(self);
    }
}
