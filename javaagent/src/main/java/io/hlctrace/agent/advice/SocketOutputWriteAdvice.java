package io.hlctrace.agent.advice;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into java.net.Socket$SocketOutputStream.write(byte[],int,int): one write, one message. */
public final class SocketOutputWriteAdvice {
    private SocketOutputWriteAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    public static boolean enter(@Advice.FieldValue("parent") Socket parent, @Advice.FieldValue("out") OutputStream out,
                                @Advice.Argument(0) byte[] b, @Advice.Argument(1) int off, @Advice.Argument(2) int len) throws IOException {
        return SocketHooks.write(parent, out, b, off, len);
    }
}
