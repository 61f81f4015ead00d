package io.hlctrace.agent;

import java.lang.instrument.Instrumentation;
import java.util.jar.JarFile;

/**
 * The Premain-Class / Agent-Class: deliberately tiny. It puts the agent jar on the bootstrap class
 * path (the calls woven into java.net classes must resolve the hooks from the bootstrap loader)
 * and starts {@code Agent} from there, so hooks and agent share one copy of every class.
 */
public final class AgentBootstrap {
    private AgentBootstrap() {}

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    private static void start(String args, Instrumentation inst, boolean attached) {
        try {
            String jar = AgentBootstrap.class.getProtectionDomain().getCodeSource().getLocation().toURI().getPath();
            inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
            Class<?> agent = Class.forName("io.hlctrace.agent.Agent", true, null);
            agent.getMethod("start", String.class, Instrumentation.class, boolean.class, String.class)
                    .invoke(null, args, inst, attached, jar);
        } catch (Throwable t) {
            Throwable cause = t instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : t;
            if (cause instanceof Agent.FailHardError fatal) {
                // the config asked for it: a broken agent stops the JVM rather than run it uninstrumented
                System.err.println(fatal.getMessage());
                Runtime.getRuntime().halt(3);
            }
            System.err.println("hlctrace agent: could not start (" + cause + "); the application runs uninstrumented");
            cause.printStackTrace();
        }
    }
}
