package io.hlctrace.agent.advice;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

import io.hlctrace.agent.NioHooks;
import net.bytebuddy.asm.Advice;

/**
 * sun.nio.ch.FileChannelImpl.transferTo/transferFrom with a socket channel on the other end: the
 * kernel would copy the bytes past the agent (sendfile/splice), so the agent copies them through the
 * channel's hooked read/write instead.
 */
public final class FileChannelTransferAdvice {
    private FileChannelTransferAdvice() {}

    public static final class To {
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static long enter(@Advice.This FileChannel self, @Advice.Argument(0) long position, @Advice.Argument(1) long count,
                                 @Advice.Argument(2) WritableByteChannel target) throws IOException {
            return NioHooks.transferTo(self, position, count, target);
        }

        @Advice.OnMethodExit
        public static void exit(@Advice.Enter long handled, @Advice.Return(readOnly = false) long result) {
            if (handled != 0) result = handled - NioHooks.HANDLED;
        }
    }

    public static final class From {
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static long enter(@Advice.This FileChannel self, @Advice.Argument(0) ReadableByteChannel src,
                                 @Advice.Argument(1) long position, @Advice.Argument(2) long count) throws IOException {
            return NioHooks.transferFrom(self, src, position, count);
        }

        @Advice.OnMethodExit
        public static void exit(@Advice.Enter long handled, @Advice.Return(readOnly = false) long result) {
            if (handled != 0) result = handled - NioHooks.HANDLED;
        }
    }
}
