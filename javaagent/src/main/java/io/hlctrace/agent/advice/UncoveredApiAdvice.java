package io.hlctrace.agent.advice;

import io.hlctrace.agent.SocketHooks;
import net.bytebuddy.asm.Advice;

/** On the constructors of network APIs the agent does not carry the clock over: one warning per API. */
public final class UncoveredApiAdvice {
    private UncoveredApiAdvice() {}

    @Advice.OnMethodExit
    public static void exit(@Advice.Origin("#t.#m") String api) {
        SocketHooks.uncovered(api.replace(".<init>", ""));
    }
}
