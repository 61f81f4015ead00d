package io.hlctrace.agent.advice;

import java.net.Socket;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/** On java.net.Socket.connect(SocketAddress,int): a new client connection. */
public final class SocketConnectAdvice {
    private SocketConnectAdvice() {}

    @Advice.OnMethodExit
    public static void exit(@Advice.This Socket self) {
        SocketHooks.connected(self);
    }
}
