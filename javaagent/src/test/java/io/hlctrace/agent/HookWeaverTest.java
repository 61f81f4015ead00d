package io.hlctrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The weaver, one pattern at a time, on a class of the test loaded with the JVM's verifier (which
 * checks the stack maps the weaver writes), and every hook of the table against the running JDK.
 */
class HookWeaverTest {
    /** The class the hooks below are woven into. */
    public static class Target {
        final int bonus = 5;

        public int read(byte[] b, int off, int len) { return -1; }

        public long skip(long n) { return -2; }

        public void write(byte[] b) { Calls.LOG.add("write " + b.length); }

        public boolean connect(String host) { return host.startsWith("up"); }

        public void close(boolean fail) {
            if (fail) throw new IllegalStateException("close failed");
            Calls.LOG.add("closed");
        }

        public int count(int n) {
            if (n < 0) return -n;
            return n;
        }

        /** A loop and a handler of its own: frames the weaver must extend with its locals. */
        public int send(String message, int times) {
            int sum = 0;
            for (int i = 0; i < times; i++) {
                try {
                    sum += Integer.parseInt(message);
                } catch (NumberFormatException e) {
                    sum -= 1;
                }
            }
            return sum;
        }
    }

    /** What the woven calls call. */
    public static final class Calls {
        public static final List<String> LOG = new ArrayList<>();

        public static long read(Object t, int bonus, byte[] b, int off, int len) {
            return len == 0 ? 0 : len + bonus + SocketHooks.HANDLED; // 0: the method runs
        }

        public static long skip(long n) {
            return n < 0 ? 0 : n * 10 + SocketHooks.HANDLED;
        }

        public static boolean write(byte[] b) {
            return b.length == 0; // true: the method is skipped
        }

        public static void connected(Object t, boolean result, String host) {
            LOG.add("connect " + host + " " + result);
        }

        public static void closed(Object t) {
            LOG.add("close hook");
        }

        public static Object sendStart(String message) {
            return "kept " + message;
        }

        public static String rewrite(String message) {
            return message.equals("x") ? "3" : message;
        }

        public static int counted(int n) {
            LOG.add("counted " + n);
            if (n == 13) throw new IllegalArgumentException("unlucky");
            return n;
        }

        public static int sent(Object kept, int n) {
            LOG.add(kept + " -> " + n);
            return n + 1000;
        }
    }

    private static final String TARGET = Target.class.getName().replace('.', '/');
    private static final String CALLS = Calls.class.getName().replace('.', '/');
    /** The calls take the hooked object as Object: another loader's Target is another class (as the real hooks take interfaces). */
    private static final String T = "Ljava/lang/Object;";

    private static HookTable.Hook hook(String method, String desc, String[] locals, HookTable.Call[] enter, HookTable.Call[] exit, boolean always) {
        return new HookTable.Hook(TARGET, method, desc, locals, enter, exit, always);
    }

    private static final List<HookTable.Hook> HOOKS = List.of(
            hook("read", "([BII)I", new String[0], new HookTable.Call[] {
                new HookTable.Call(CALLS, "read", "(" + T + "I[BII)J", "skip", "this", "field:bonus", "arg0", "arg1", "arg2")}, new HookTable.Call[0], false),
            hook("skip", "(J)J", new String[0], new HookTable.Call[] {new HookTable.Call(CALLS, "skip", "(J)J", "skip", "arg0")}, new HookTable.Call[0], false),
            hook("write", "([B)V", new String[0], new HookTable.Call[] {new HookTable.Call(CALLS, "write", "([B)Z", "skip", "arg0")}, new HookTable.Call[0], false),
            hook("connect", null, new String[0], new HookTable.Call[0], new HookTable.Call[] {
                new HookTable.Call(CALLS, "connected", "(" + T + "ZLjava/lang/String;)V", "void", "this", "return", "arg0")}, false),
            hook("close", "(Z)V", new String[0], new HookTable.Call[0], new HookTable.Call[] {
                new HookTable.Call(CALLS, "closed", "(" + T + ")V", "void", "this")}, true),
            hook("count", "(I)I", new String[0], new HookTable.Call[0], new HookTable.Call[] {
                new HookTable.Call(CALLS, "counted", "(I)I", "return", "return")}, true),
            hook("send", "(Ljava/lang/String;I)I", new String[] {"Ljava/lang/Object;"}, new HookTable.Call[] {
                new HookTable.Call(CALLS, "sendStart", "(Ljava/lang/String;)Ljava/lang/Object;", "local0", "arg0"),
                new HookTable.Call(CALLS, "rewrite", "(Ljava/lang/String;)Ljava/lang/String;", "arg0", "arg0")}, new HookTable.Call[] {
                new HookTable.Call(CALLS, "sent", "(Ljava/lang/Object;I)I", "return", "local0", "return")}, true));

    private static byte[] classFile(String internalName) throws IOException {
        try (InputStream in = ClassLoader.getSystemResourceAsStream(internalName + ".class")) {
            assertNotNull(in, internalName);
            return in.readAllBytes();
        }
    }

    /** Target woven, defined by a loader of its own (so the verifier checks it), as an instance. */
    private static Object wovenTarget() throws Exception {
        List<HookTable.Hook> unmatched = new ArrayList<>();
        byte[] woven = HookWeaver.weave(classFile(TARGET), HOOKS, unmatched);
        assertEquals(List.of(), unmatched);
        ClassLoader loader = new ClassLoader(HookWeaverTest.class.getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (!name.equals(Target.class.getName())) return super.loadClass(name, resolve);
                synchronized (getClassLoadingLock(name)) {
                    Class<?> c = findLoadedClass(name);
                    return c != null ? c : defineClass(name, woven, 0, woven.length);
                }
            }
        };
        Class<?> c = loader.loadClass(Target.class.getName());
        assertTrue(c != Target.class);
        return c.getConstructor().newInstance();
    }

    private static Object call(Object target, String name, Class<?>[] types, Object... args) throws Throwable {
        try {
            return target.getClass().getMethod(name, types).invoke(target, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Test
    void aLongAnswerReturnsTheHooksResultOrRunsTheMethod() throws Throwable {
        Object t = wovenTarget();
        Class<?>[] read = {byte[].class, int.class, int.class};
        assertEquals(12, call(t, "read", read, new byte[8], 0, 7), "handled: the answer minus HANDLED (7 + field bonus 5)");
        assertEquals(-1, call(t, "read", read, new byte[8], 0, 0), "0: the method's own result");
        assertEquals(30L, call(t, "skip", new Class<?>[] {long.class}, 3L), "a long method");
        assertEquals(-2L, call(t, "skip", new Class<?>[] {long.class}, -3L));
    }

    @Test
    void aBooleanAnswerSkipsAVoidMethod() throws Throwable {
        Object t = wovenTarget();
        Calls.LOG.clear();
        call(t, "write", new Class<?>[] {byte[].class}, (Object) new byte[0]);
        call(t, "write", new Class<?>[] {byte[].class}, (Object) new byte[3]);
        assertEquals(List.of("write 3"), Calls.LOG);
    }

    @Test
    void exitCallsSeeTheReturnValueAndRunOnAThrowWhenAsked() throws Throwable {
        Object t = wovenTarget();
        Calls.LOG.clear();
        assertEquals(true, call(t, "connect", new Class<?>[] {String.class}, "up.example"));
        assertEquals(false, call(t, "connect", new Class<?>[] {String.class}, "down.example"));
        call(t, "close", new Class<?>[] {boolean.class}, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> call(t, "close", new Class<?>[] {boolean.class}, true));
        assertEquals("close failed", e.getMessage(), "the method's own exception goes on");
        assertEquals(List.of("connect up.example true", "connect down.example false", "closed", "close hook", "close hook"), Calls.LOG);
    }

    @Test
    void anExitCallThatThrowsRunsOnceAndItsExceptionGoesOn() throws Throwable {
        Object t = wovenTarget();
        Calls.LOG.clear();
        Class<?>[] count = {int.class};
        assertEquals(5, call(t, "count", count, -5), "either return of the method goes through the exit");
        assertEquals(7, call(t, "count", count, 7));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> call(t, "count", count, 13));
        assertEquals("unlucky", e.getMessage());
        assertEquals(List.of("counted 5", "counted 7", "counted 13"), Calls.LOG, "not caught by the catch-all and run again with 0");
    }

    @Test
    void entryCallsKeepALocalAndReplaceAnArgumentAndTheExitReplacesTheResult() throws Throwable {
        Object t = wovenTarget();
        Calls.LOG.clear();
        Class<?>[] send = {String.class, int.class};
        assertEquals(1009, call(t, "send", send, "x", 3), "x rewritten to 3, three times, plus 1000 from the exit");
        assertEquals(997, call(t, "send", send, "nan", 3), "the method's own handler still catches");
        assertThrows(NullPointerException.class, () -> call(t, "send", send, null, 1), "rewrite(null) throws before the method runs");
        assertEquals(List.of("kept x -> 9", "kept nan -> -3"), Calls.LOG, "the exit sees the local the entry kept, and no exit ran for a throwing entry");
    }

    @Test
    void aHookWithoutItsMethodIsReportedNotDropped() throws Exception {
        HookTable.Hook missing = hook("noSuchMethod", "()V", new String[0], new HookTable.Call[0],
                new HookTable.Call[] {new HookTable.Call(CALLS, "closed", "(" + T + ")V", "void", "this")}, false);
        List<HookTable.Hook> unmatched = new ArrayList<>();
        byte[] original = classFile(TARGET);
        byte[] woven = HookWeaver.weave(original, List.of(missing), unmatched);
        assertEquals(List.of(missing), unmatched);
        assertTrue(original == woven, "the class file is left as it was");
    }

    @Test
    void everyHookOfTheTableFindsItsMethodInThisJdk() throws Exception {
        List<String> types = new ArrayList<>(List.of(HookTable.JDK_TYPES));
        assertEquals(8, types.size(), types.toString());
        for (String uncovered : HookTable.UNCOVERED_TYPES) {
            if (uncovered.startsWith("sun.")) types.add(uncovered); // the JDK's; Netty's are not on this class path
        }
        for (String type : types) {
            String internal = type.replace('.', '/');
            byte[] original = classFile(internal);
            List<HookTable.Hook> unmatched = new ArrayList<>();
            byte[] woven = HookWeaver.weave(original, HookTable.of(internal), unmatched);
            assertEquals(List.of(), unmatched, type + " on JDK " + Runtime.version());
            assertFalse(java.util.Arrays.equals(original, woven), type);
        }
    }

    @Test
    void everyCallOfTheTableNamesAPublicStaticEntryPointWithItsDescriptor() throws Exception {
        for (HookTable.Hook h : HookTable.ALL) {
            for (HookTable.Call[] calls : new HookTable.Call[][] {h.enter, h.exit}) {
                for (HookTable.Call c : calls) {
                    if (c.owner == null) continue;
                    Class<?> owner = Class.forName(c.owner.replace('/', '.'));
                    Method m = null;
                    for (Method candidate : owner.getDeclaredMethods()) {
                        if (candidate.getName().equals(c.name) && descriptor(candidate).equals(c.desc)) m = candidate;
                    }
                    assertNotNull(m, h + ": " + c + " not found");
                    assertTrue(Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && Modifier.isPublic(owner.getModifiers()),
                            h + ": " + c + " must be public static in a public class (it is called from java.base)");
                }
            }
        }
    }

    private static String descriptor(Method m) {
        StringBuilder b = new StringBuilder("(");
        for (Class<?> p : m.getParameterTypes()) b.append(p.descriptorString());
        return b.append(')').append(m.getReturnType().descriptorString()).toString();
    }
}
