package io.hlctrace.agent;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Applies the hooks of {@link HookTable} to exactly the named types: every other class the JVM
 * loads is answered with a string lookup. The weaving ({@link HookWeaver}, ASM) only adds code
 * inside existing methods, so the class format never changes, as retransformation requires.
 *
 * <p>The result for a given class file is cached on disk ({@code classCache}), keyed by the class
 * file's length and checksums and by the agent jar: a later JVM of the same JDK takes the hooked
 * classes from there and never loads ASM at all.
 */
final class HookTransformer implements ClassFileTransformer {
    private final Map<String, String> failures = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile java.nio.file.Path cacheDir; // null: no cache
    int cacheHits;
    int cacheMisses;

    HookTransformer(java.nio.file.Path cacheDir) {
        this.cacheDir = cacheDir;
    }

    /** Neither reads nor writes the class cache from now on. */
    void disableCache() {
        cacheDir = null;
    }

    boolean hooks(String typeName) {
        return HookTable.of(typeName.replace('.', '/')) != null;
    }

    /** Why a type could not be instrumented, by type name (empty when all went well). */
    Map<String, String> failures() { return failures; }

    /**
     * The cache file of a class file: name, length and two checksums of its canonical form. The
     * class file a JVM hands to a retransformation is rebuilt from its loaded class, whose methods
     * it keeps in an order that depends on the run (sorted by the addresses of their names), so the
     * checksums cover the methods sorted by name and descriptor; everything else is taken as it is.
     */
    private static java.nio.file.Path cacheFile(java.nio.file.Path cacheDir, String internalName, byte[] classFile) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        java.util.zip.Adler32 adler = new java.util.zip.Adler32();
        int[] methods = methodRanges(classFile);
        int methodsStart = methods[0];
        int methodsEnd = methods[1];
        crc.update(classFile, 0, methodsStart);
        adler.update(classFile, 0, methodsStart);
        for (int i = 2; i < methods.length; i += 2) {
            crc.update(classFile, methods[i], methods[i + 1] - methods[i]);
            adler.update(classFile, methods[i], methods[i + 1] - methods[i]);
        }
        crc.update(classFile, methodsEnd, classFile.length - methodsEnd);
        adler.update(classFile, methodsEnd, classFile.length - methodsEnd);
        return cacheDir.resolve(internalName.replace('/', '.') + "-" + classFile.length + "-" + Long.toHexString(crc.getValue())
                + "-" + Long.toHexString(adler.getValue()) + ".class");
    }

    private static int u2(byte[] b, int p) { return (b[p] & 0xFF) << 8 | b[p + 1] & 0xFF; }

    private static int u4(byte[] b, int p) { return u2(b, p) << 16 | u2(b, p + 2); }

    /** Past one field_info or method_info at p. */
    private static int skipMember(byte[] b, int p) {
        int attributes = u2(b, p + 6);
        p += 8;
        for (int i = 0; i < attributes; i++) p += 6 + u4(b, p + 2);
        return p;
    }

    /**
     * {start and end of the methods table (after its count), then start and end of each method_info
     * in the order of its name and descriptor indexes}. Throws on a malformed class file.
     */
    static int[] methodRanges(byte[] b) {
        int p = 8;
        int cpCount = u2(b, p);
        p += 2;
        for (int i = 1; i < cpCount; i++) {
            int tag = b[p] & 0xFF;
            switch (tag) {
                case 1 -> p += 3 + u2(b, p + 1);                         // Utf8
                case 3, 4, 9, 10, 11, 12, 17, 18 -> p += 5;              // Integer, Float, refs, NameAndType, (Invoke)Dynamic
                case 5, 6 -> { p += 9; i++; }                            // Long, Double: two slots
                case 7, 8, 16, 19, 20 -> p += 3;                         // Class, String, MethodType, Module, Package
                case 15 -> p += 4;                                       // MethodHandle
                default -> throw new IllegalArgumentException("constant pool tag " + tag + " at " + p);
            }
        }
        p += 6; // access flags, this, super
        p += 2 + 2 * u2(b, p); // interfaces
        int fields = u2(b, p);
        p += 2;
        for (int i = 0; i < fields; i++) p = skipMember(b, p);
        int count = u2(b, p);
        p += 2;
        int start = p;
        long[] order = new long[count];
        int[] ranges = new int[2 * count];
        for (int i = 0; i < count; i++) {
            int end = skipMember(b, p);
            ranges[2 * i] = p;
            ranges[2 * i + 1] = end;
            order[i] = (long) u2(b, p + 2) << 48 | (long) u2(b, p + 4) << 32 | i; // name, descriptor, position
            p = end;
        }
        java.util.Arrays.sort(order);
        int[] out = new int[2 + 2 * count];
        out[0] = start;
        out[1] = p;
        for (int i = 0; i < count; i++) {
            int k = (int) order[i];
            out[2 + 2 * i] = ranges[2 * k];
            out[3 + 2 * i] = ranges[2 * k + 1];
        }
        return out;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain pd, byte[] classFile) {
        if (className == null) return null;
        List<HookTable.Hook> hooks = HookTable.of(className);
        if (hooks == null) return null;
        try {
            java.nio.file.Path dir = cacheDir;
            java.nio.file.Path cached = dir == null ? null : cacheFile(dir, className, classFile);
            if (cached != null) {
                try {
                    byte[] b = java.nio.file.Files.readAllBytes(cached);
                    cacheHits++;
                    return b;
                } catch (java.io.IOException missing) {
                    cacheMisses++;
                }
            }
            List<HookTable.Hook> unmatched = new ArrayList<>();
            byte[] result = HookWeaver.weave(classFile, hooks, unmatched);
            for (HookTable.Hook h : unmatched) {
                // a JDK whose method changed: say which messages go untraced, rather than nothing
                failures.put(h.toString(), "no such method");
                Agent.warn("hook " + h + " found no such method in this JDK; what passes through it is not traced");
            }
            // not cached with a hook missing: every JVM then says so
            if (cached != null && unmatched.isEmpty()) store(cached, result);
            return result;
        } catch (Throwable t) {
            // the JVM would swallow it: the type stays as it was, and the agent says so
            failures.put(className.replace('/', '.'), t.toString());
            Agent.warn("could not instrument " + className.replace('/', '.') + " (" + t + "); its messages are not traced");
            return null;
        }
    }

    /** Written to a temporary file and moved in place, so a reader never sees half a class. */
    private static void store(java.nio.file.Path file, byte[] b) {
        try {
            // not Files.createTempFile: its random names initialise SecureRandom, a cost at start-up
            java.nio.file.Path tmp = file.resolveSibling(file.getFileName() + "." + Agent.pid() + "-" + System.nanoTime() + ".part");
            java.nio.file.Files.write(tmp, b, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
            java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException | RuntimeException e) {
            // the cache only saves time: without it the next JVM builds the class again
        }
    }
}
