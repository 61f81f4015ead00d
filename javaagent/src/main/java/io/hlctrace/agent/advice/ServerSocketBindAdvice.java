package io.hlctrace.agent.advice;

import java.net.ServerSocket;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/** On java.net.ServerSocket.bind(SocketAddress,int): registers the port as instrumented on this executor. */
public final class ServerSocketBindAdvice {
    private ServerSocketBindAdvice() {}

    @Advice.OnMethodExit
    public static void exit(@Advice.This ServerSocket self) {
        SocketHooks.bound(self);
    }
}
