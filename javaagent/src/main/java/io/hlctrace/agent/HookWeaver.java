package io.hlctrace.agent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Inlines the calls of {@link HookTable} into a JDK class file with plain ASM. It only adds code
 * inside existing methods, so the class format never changes, as retransformation requires.
 *
 * <p>Why not Byte Buddy's {@code Advice}: it did the same, but building it loaded 524 Byte Buddy
 * classes and spun annotation proxies, about 200 ms of a cold JVM start on JDK 25; this weaver and
 * the part of ASM it uses load in a fraction of that (docs/javaagent.md, "Start-up").
 *
 * <p>Stack map frames: the class is read with expanded frames and written as it comes (no
 * computation, which would need to load classes). The code added at entry branches only to a frame
 * of the method's arguments; values kept for the exit calls go in new local slots past the
 * method's own, added to every frame of the method; the catch-all of an exit that also runs on a
 * throw comes last in the exception table, so the method's own handlers come first, and its
 * returns jump to one exit block past the catch-all's range, so an exit call that throws is not
 * run a second time by the catch-all.
 */
final class HookWeaver {
    private HookWeaver() {}

    /**
     * The class file with the hooks woven in (the same array when none found its method).
     * {@code unmatched} receives each hook that found no method (a JDK whose method changed): what
     * passes through it would not be traced, which must be said.
     */
    static byte[] weave(byte[] classFile, List<HookTable.Hook> hooks, List<HookTable.Hook> unmatched) {
        ClassReader reader = new ClassReader(classFile);
        Map<String, Integer> maxLocals = new HashMap<>();
        reader.accept(new MaxLocals(hooks, maxLocals), ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        ClassWriter writer = new ClassWriter(reader, 0);
        TypeWeaver weaver = new TypeWeaver(writer, hooks, maxLocals);
        reader.accept(weaver, ClassReader.EXPAND_FRAMES);
        for (HookTable.Hook h : hooks) {
            if (!weaver.applied.contains(h)) unmatched.add(h);
        }
        return weaver.applied.isEmpty() ? classFile : writer.toByteArray();
    }

    private static HookTable.Hook find(List<HookTable.Hook> hooks, String name, String desc) {
        for (HookTable.Hook h : hooks) {
            if (h.matches(name, desc)) return h;
        }
        return null;
    }

    /** First pass: the local slots each hooked method uses, so the added locals go past them. */
    private static final class MaxLocals extends ClassVisitor {
        private final List<HookTable.Hook> hooks;
        private final Map<String, Integer> out;

        MaxLocals(List<HookTable.Hook> hooks, Map<String, Integer> out) {
            super(Opcodes.ASM9);
            this.hooks = hooks;
            this.out = out;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            if (find(hooks, name, desc) == null) return null; // the reader skips the method's code
            String key = name + desc;
            return new MethodVisitor(Opcodes.ASM9) {
                @Override
                public void visitMaxs(int maxStack, int maxLocals) {
                    out.put(key, maxLocals);
                }
            };
        }
    }

    private static final class TypeWeaver extends ClassVisitor {
        private final List<HookTable.Hook> hooks;
        private final Map<String, Integer> maxLocals;
        private final Map<String, String> fields = new HashMap<>();
        final List<HookTable.Hook> applied = new ArrayList<>();
        private String owner;

        TypeWeaver(ClassVisitor next, List<HookTable.Hook> hooks, Map<String, Integer> maxLocals) {
            super(Opcodes.ASM9, next);
            this.hooks = hooks;
            this.maxLocals = maxLocals;
        }

        @Override
        public void visit(int version, int access, String name, String signature, String superName, String[] interfaces) {
            owner = name;
            super.visit(version, access, name, signature, superName, interfaces);
        }

        @Override
        public FieldVisitor visitField(int access, String name, String desc, String signature, Object value) {
            fields.put(name, desc);
            return super.visitField(access, name, desc, signature, value);
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
            HookTable.Hook hook = find(hooks, name, desc);
            if (hook == null || (access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0) return mv;
            Integer locals = maxLocals.get(name + desc);
            if (locals == null) throw new IllegalStateException(owner + "." + name + desc + ": no code found in the first pass");
            applied.add(hook);
            return new MethodWeaver(mv, hook, owner, access, name, desc, locals, fields);
        }
    }

    private static final class MethodWeaver extends MethodVisitor {
        private final HookTable.Hook hook;
        private final String owner;
        private final String where;
        private final boolean isStatic;
        private final Type[] args;
        private final Type returns;
        private final Map<String, String> fields;
        /** The frame of the method's first instruction (this and the arguments), as ASM writes frames. */
        private final Object[] initialFrame;
        /** The slot count of the method's own locals: the added ones start here. */
        private final int firstLocal;
        private final Object[] addedFrameLocals;
        private final int[] localSlot;
        /** A slot past everything, for a return value or a throwable while the exit calls run. */
        private final int scratch;
        private final Label tryStart = new Label();
        private final Label tryEnd = new Label();
        private final Label handler = new Label();
        /** With exitOnThrow: where every return goes, past the catch-all's range. */
        private final Label exitBlock = new Label();
        private boolean returned;
        /** The deepest stack the added code needs on top of the method's own. */
        private final int extraStack;
        private boolean begun;

        MethodWeaver(MethodVisitor next, HookTable.Hook hook, String owner, int access, String name, String desc, int maxLocals,
                     Map<String, String> fields) {
            super(Opcodes.ASM9, next);
            this.hook = hook;
            this.owner = owner;
            this.where = owner.replace('/', '.') + "." + name + desc;
            this.isStatic = (access & Opcodes.ACC_STATIC) != 0;
            this.args = Type.getArgumentTypes(desc);
            this.returns = Type.getReturnType(desc);
            this.fields = fields;
            if ("<init>".equals(name) && (hook.enter.length > 0 || hook.exitOnThrow || hook.locals.length > 0)) {
                throw new IllegalStateException(where + ": a constructor takes only exit calls on its normal returns");
            }
            for (HookTable.Call c : hook.enter) {
                if (c.result.equals("skip") && (hook.exit.length > 0 || hook.locals.length > 0)) {
                    throw new IllegalStateException(where + ": a skipping hook has no exit calls and keeps no locals");
                }
            }
            List<Object> frame = new ArrayList<>();
            if (!isStatic) frame.add(owner);
            for (Type t : args) frame.add(frameType(t));
            this.initialFrame = frame.toArray();
            this.firstLocal = maxLocals;
            this.addedFrameLocals = new Object[hook.locals.length];
            this.localSlot = new int[hook.locals.length];
            int slot = maxLocals;
            for (int i = 0; i < hook.locals.length; i++) {
                Type t = Type.getType(hook.locals[i]);
                addedFrameLocals[i] = frameType(t);
                localSlot[i] = slot;
                slot += t.getSize();
            }
            this.scratch = slot;
            int stack = 0;
            for (HookTable.Call[] calls : new HookTable.Call[][] {hook.enter, hook.exit}) {
                for (HookTable.Call c : calls) stack = Math.max(stack, stackOf(c));
            }
            this.extraStack = stack;
        }

        /** Stack slots a call needs: its arguments, or its answer and what a skip compares it with. */
        private int stackOf(HookTable.Call c) {
            int args = 0;
            for (String a : c.args) {
                if (a.startsWith("arg") || a.startsWith("local")) args += variableType(a).getSize();
                else if (a.equals("return")) args += returns.getSize();
                else args += 1; // this, a field (the hooks read references only), a string
            }
            int answer = c.owner == null ? 0 : Type.getReturnType(c.desc).getSize();
            return Math.max(args, c.result.equals("skip") ? 3 * answer : answer); // skip: the answer, its copy and a long 0
        }

        private static Object frameType(Type t) {
            switch (t.getSort()) {
                case Type.BOOLEAN: case Type.BYTE: case Type.CHAR: case Type.SHORT: case Type.INT: return Opcodes.INTEGER;
                case Type.LONG: return Opcodes.LONG;
                case Type.FLOAT: return Opcodes.FLOAT;
                case Type.DOUBLE: return Opcodes.DOUBLE;
                default: return t.getInternalName(); // objects: internal name; arrays: their descriptor
            }
        }

        /** Before the method's first instruction, after its own exception table (so a catch-all of ours comes last). */
        private void begin() {
            if (begun) return;
            begun = true;
            if (hook.exitOnThrow) mv.visitTryCatchBlock(tryStart, tryEnd, handler, null);
            for (HookTable.Call c : hook.enter) emit(c, false);
            if (hook.exitOnThrow) mv.visitLabel(tryStart);
        }

        /** Loads one named argument of a call. */
        private void load(String arg, boolean zeroReturn) {
            if (isStatic && (arg.equals("this") || arg.startsWith("field:"))) throw new IllegalStateException(where + ": a static method has no " + arg);
            if (arg.equals("this")) {
                mv.visitVarInsn(Opcodes.ALOAD, 0);
            } else if (arg.startsWith("arg") || arg.startsWith("local")) {
                variable(arg, Opcodes.ILOAD);
            } else if (arg.startsWith("field:")) {
                String name = arg.substring(6);
                String desc = fields.get(name);
                if (desc == null) throw new IllegalStateException(where + ": field " + name + " not found in this JDK");
                mv.visitVarInsn(Opcodes.ALOAD, 0);
                mv.visitFieldInsn(Opcodes.GETFIELD, owner, name, desc);
            } else if (arg.equals("return")) {
                if (zeroReturn) pushZero(returns);
                else mv.visitVarInsn(returns.getOpcode(Opcodes.ILOAD), scratch);
            } else if (arg.startsWith("const:")) {
                mv.visitLdcInsn(arg.substring(6));
            } else {
                throw new IllegalArgumentException(where + ": unknown argument " + arg);
            }
        }

        /** Loads or stores ({@code ILOAD} or {@code ISTORE}, made the type's own) an argument ({@code argN}) or an added local ({@code localN}). */
        private void variable(String ref, int intOpcode) {
            mv.visitVarInsn(variableType(ref).getOpcode(intOpcode), variableSlot(ref));
        }

        private Type variableType(String ref) {
            return ref.startsWith("arg") ? args[Integer.parseInt(ref.substring(3))] : Type.getType(hook.locals[Integer.parseInt(ref.substring(5))]);
        }

        private int variableSlot(String ref) {
            if (!ref.startsWith("arg")) return localSlot[Integer.parseInt(ref.substring(5))];
            int slot = isStatic ? 0 : 1;
            for (int k = 0, i = Integer.parseInt(ref.substring(3)); k < i; k++) slot += args[k].getSize();
            return slot;
        }

        private void pushZero(Type t) {
            switch (t.getSort()) {
                case Type.LONG -> mv.visitInsn(Opcodes.LCONST_0);
                case Type.FLOAT -> mv.visitInsn(Opcodes.FCONST_0);
                case Type.DOUBLE -> mv.visitInsn(Opcodes.DCONST_0);
                case Type.OBJECT, Type.ARRAY -> mv.visitInsn(Opcodes.ACONST_NULL);
                default -> mv.visitInsn(Opcodes.ICONST_0);
            }
        }

        /** One call and its result; {@code onThrow}: the exception path, where the return value is 0 and discarded. */
        private void emit(HookTable.Call c, boolean onThrow) {
            for (String a : c.args) load(a, onThrow);
            if (c.owner != null) mv.visitMethodInsn(Opcodes.INVOKESTATIC, c.owner, c.name, c.desc, false);
            String r = c.result;
            if (r.equals("void")) return;
            if (r.equals("skip")) {
                skip(Type.getReturnType(c.desc));
            } else if (r.equals("return")) {
                if (onThrow) mv.visitInsn(returns.getSize() == 2 ? Opcodes.POP2 : Opcodes.POP);
                else mv.visitVarInsn(returns.getOpcode(Opcodes.ISTORE), scratch);
            } else if (r.startsWith("arg") || r.startsWith("local")) {
                variable(r, Opcodes.ISTORE);
            } else {
                throw new IllegalArgumentException(where + ": unknown result " + r);
            }
        }

        /** The hook's answer is on the stack: return now (its result) or go on into the method. */
        private void skip(Type answer) {
            Label proceed = new Label();
            if (answer.getSort() == Type.LONG) {
                // 0: run the method; otherwise the result is the answer minus HANDLED
                mv.visitInsn(Opcodes.DUP2);
                mv.visitInsn(Opcodes.LCONST_0);
                mv.visitInsn(Opcodes.LCMP);
                mv.visitJumpInsn(Opcodes.IFEQ, proceed);
                mv.visitLdcInsn(SocketHooks.HANDLED);
                mv.visitInsn(Opcodes.LSUB);
                if (returns.getSort() == Type.INT) mv.visitInsn(Opcodes.L2I);
                else if (returns.getSort() != Type.LONG) throw new IllegalStateException(where + ": a long answer skips only int or long methods");
                mv.visitInsn(returns.getOpcode(Opcodes.IRETURN));
                mv.visitLabel(proceed);
                mv.visitFrame(Opcodes.F_NEW, initialFrame.length, initialFrame, 1, new Object[] {Opcodes.LONG});
                mv.visitInsn(Opcodes.POP2);
            } else if (answer.getSort() == Type.BOOLEAN && returns.getSort() == Type.VOID) {
                mv.visitJumpInsn(Opcodes.IFEQ, proceed);
                mv.visitInsn(Opcodes.RETURN);
                mv.visitLabel(proceed);
                mv.visitFrame(Opcodes.F_NEW, initialFrame.length, initialFrame, 0, new Object[0]);
                mv.visitInsn(Opcodes.NOP); // the method's own frame at its first instruction, if any, must not share this offset
            } else {
                throw new IllegalStateException(where + ": a skipping hook answers a long (int or long method) or a boolean (void method)");
            }
        }

        /** At each return: the exit calls, with the return value kept in the scratch slot. */
        private void exit() {
            if (returns.getSort() != Type.VOID) mv.visitVarInsn(returns.getOpcode(Opcodes.ISTORE), scratch);
            exitCalls();
        }

        /** The exit calls, the return value in the scratch slot; leaves it on the stack. */
        private void exitCalls() {
            for (HookTable.Call c : hook.exit) emit(c, false);
            if (returns.getSort() != Type.VOID) mv.visitVarInsn(returns.getOpcode(Opcodes.ILOAD), scratch);
        }

        /** The locals of a frame of the method, with the added locals past the method's own slots. */
        private Object[] withAddedLocals(int nLocal, Object[] local) {
            List<Object> out = new ArrayList<>(nLocal + addedFrameLocals.length + 4);
            int slots = 0;
            for (int i = 0; i < nLocal; i++) {
                out.add(local[i]);
                slots += local[i] == Opcodes.LONG || local[i] == Opcodes.DOUBLE ? 2 : 1;
            }
            for (; slots < firstLocal; slots++) out.add(Opcodes.TOP);
            for (Object t : addedFrameLocals) out.add(t);
            return out.toArray();
        }

        @Override
        public void visitFrame(int type, int nLocal, Object[] local, int nStack, Object[] stack) {
            begin();
            if (addedFrameLocals.length == 0) {
                super.visitFrame(type, nLocal, local, nStack, stack);
            } else {
                Object[] l = withAddedLocals(nLocal, local);
                super.visitFrame(type, l.length, l, nStack, stack);
            }
        }

        @Override
        public void visitInsn(int opcode) {
            begin();
            if (opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN && hook.exitOnThrow) {
                // to the one exit block, past the catch-all's range
                if (returns.getSort() != Type.VOID) mv.visitVarInsn(returns.getOpcode(Opcodes.ISTORE), scratch);
                mv.visitJumpInsn(Opcodes.GOTO, exitBlock);
                returned = true;
                return;
            }
            if (opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN && hook.exit.length > 0) exit();
            super.visitInsn(opcode);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            begin();
            if (hook.exitOnThrow) {
                mv.visitLabel(tryEnd);
                if (returned) {
                    mv.visitLabel(exitBlock);
                    Object[] l = withAddedLocals(initialFrame.length, initialFrame);
                    if (returns.getSort() != Type.VOID) {
                        l = java.util.Arrays.copyOf(l, l.length + 1);
                        l[l.length - 1] = frameType(returns);
                    }
                    mv.visitFrame(Opcodes.F_NEW, l.length, l, 0, new Object[0]);
                    exitCalls();
                    mv.visitInsn(returns.getOpcode(Opcodes.IRETURN));
                }
                // the exception path: the exit calls with a zero return value, then the exception goes on
                mv.visitLabel(handler);
                Object[] l = withAddedLocals(initialFrame.length, initialFrame);
                mv.visitFrame(Opcodes.F_NEW, l.length, l, 1, new Object[] {"java/lang/Throwable"});
                mv.visitVarInsn(Opcodes.ASTORE, scratch);
                for (HookTable.Call c : hook.exit) emit(c, true);
                mv.visitVarInsn(Opcodes.ALOAD, scratch);
                mv.visitInsn(Opcodes.ATHROW);
            }
            super.visitMaxs(maxStack + extraStack, Math.max(maxLocals, scratch + 2));
        }

        // every other instruction only starts the added entry code, if it has not run yet
        @Override public void visitIntInsn(int opcode, int operand) { begin(); super.visitIntInsn(opcode, operand); }
        @Override public void visitVarInsn(int opcode, int var) { begin(); super.visitVarInsn(opcode, var); }
        @Override public void visitTypeInsn(int opcode, String type) { begin(); super.visitTypeInsn(opcode, type); }
        @Override public void visitFieldInsn(int opcode, String o, String n, String d) { begin(); super.visitFieldInsn(opcode, o, n, d); }
        @Override public void visitMethodInsn(int opcode, String o, String n, String d, boolean itf) { begin(); super.visitMethodInsn(opcode, o, n, d, itf); }
        @Override public void visitInvokeDynamicInsn(String n, String d, org.objectweb.asm.Handle h, Object... a) { begin(); super.visitInvokeDynamicInsn(n, d, h, a); }
        @Override public void visitJumpInsn(int opcode, Label label) { begin(); super.visitJumpInsn(opcode, label); }
        @Override public void visitLabel(Label label) { begin(); super.visitLabel(label); }
        @Override public void visitLdcInsn(Object value) { begin(); super.visitLdcInsn(value); }
        @Override public void visitIincInsn(int var, int increment) { begin(); super.visitIincInsn(var, increment); }
        @Override public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) { begin(); super.visitTableSwitchInsn(min, max, dflt, labels); }
        @Override public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) { begin(); super.visitLookupSwitchInsn(dflt, keys, labels); }
        @Override public void visitMultiANewArrayInsn(String d, int dims) { begin(); super.visitMultiANewArrayInsn(d, dims); }
        @Override public void visitLineNumber(int line, Label start) { begin(); super.visitLineNumber(line, start); }
    }
}
