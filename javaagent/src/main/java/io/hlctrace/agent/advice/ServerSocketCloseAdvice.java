package io.hlctrace.agent.advice;

import java.net.ServerSocket;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/** On java.net.ServerSocket.close(): the port leaves the registry (read before the close forgets it). */
public final class ServerSocketCloseAdvice {
    private ServerSocketCloseAdvice() {}

    @Advice.OnMethodEnter
    public static void enter(@Advice.This ServerSocket self) {
        SocketHooks.serverClosed(self);
    }
}
