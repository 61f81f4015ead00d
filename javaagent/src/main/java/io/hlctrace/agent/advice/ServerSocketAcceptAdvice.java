package io.hlctrace.agent.advice;

import java.net.Socket;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/**
 * On java.net.ServerSocket.implAccept(Socket): the accepted side of a connection. accept() and the
 * overrides of subclasses (SSLServerSocket) all end there.
 */
public final class ServerSocketAcceptAdvice {
    private ServerSocketAcceptAdvice() {}

    @Advice.OnMethodExit
    public static void exit(@Advice.Argument(0) Socket accepted) {
        SocketHooks.accepted(accepted);
    }
}
