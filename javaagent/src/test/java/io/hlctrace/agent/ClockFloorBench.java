package io.hlctrace.agent;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.SystemPhysicalClock;

/**
 * What every message costs at least by the issue's own requirements, without the log and without
 * syscalls (scripts/bench-agent.sh prints it second and compares it at the end with the 5% budget
 * of the plain ping-pongs). One hop is a receive and the reply's send, a round trip two hops:
 * <ul>
 * <li>{@code hand-off}: nothing else (the baseline);</li>
 * <li>{@code framing}: the sender writes the header and copies the 1 KiB payload behind it (one
 * write carries both); the receiver validates and decodes the header and copies the payload out;</li>
 * <li>{@code framing+clock}: also the receive's merge and the send's tick on the executor's shared
 * clock word, by {@link Stamper} (the agent's own code, with a physical clock read each), as the
 * brief asks: one 64-bit word per executor, updated by CAS.</li>
 * </ul>
 * Each runs twice: on one thread (both ends on one core, as in the one-thread ping-pong), and
 * handed back and forth between two threads that spin on a volatile field (each message crosses
 * between the two cores, and the clock word with it, as in a two-thread ping-pong whose threads run
 * on different cores; no wake-up, no scheduler). Run with
 * {@code -Dhlctrace.benchmark.parts=framing+clock}: the Stamper then logs nothing (the log's cost
 * is measured by the agent runs, and its writer thread would take a core from the spinning
 * threads). The rounds alternate the modes, and the best round of each is reported.
 */
public final class ClockFloorBench {
    /** The modes: hand-off only, + framing, + framing and clock. */
    private static final int HANDOFF = 0, FRAMING = 1, CLOCK = 2, MODES = 3;
    private static final int PAYLOAD = 1024;

    /** Whose turn it is: hop h belongs to thread h % 2. */
    private static volatile long turn;
    /** The HLC of the message in flight (it travels in the header; here it crosses beside the turn). */
    private static volatile long wire;

    public static void main(String[] args) throws Exception {
        if (Stamper.PARTS != Stamper.PARTS_FRAMING_CLOCK) {
            throw new IllegalStateException("run with -Dhlctrace.benchmark.parts=framing+clock (the stamps must not be logged here; see the class comment)");
        }
        int hops = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int rounds = 7;
        Path dir = Files.createTempDirectory("hlctrace-clock-floor");
        Path clockFile = dir.resolve("clock");
        try (ExecutorClockFile file = ExecutorClockFile.openOrCreate(clockFile)) {
            ExecutorClockState shared = file.state();
            // the agent's own clock: the executor's word and its physical clock (Agent.start)
            Stamper stamper = new Stamper(shared.hlcCell(), shared.physicalClock(new CalibratedSystemClock(SystemPhysicalClock.INSTANCE)),
                    Duration.ofMillis(500), shared, AgentConfig.FailMode.MARK_UNHEALTHY);
            // [mode][round]: wall time of the hops handed between two threads, and of the same hops on one thread
            long[][] across = new long[MODES][rounds], oneCore = new long[MODES][rounds];
            for (int r = -2; r < rounds; r++) { // two warm-up rounds
                for (int mode = 0; mode < MODES; mode++) {
                    long a = handedOff(stamper, mode, hops), o = oneThread(stamper, mode, hops);
                    if (r >= 0) {
                        across[mode][r] = a;
                        oneCore[mode][r] = o;
                    }
                }
            }
            double[] a = bestPerRoundTrip(across, hops), o = bestPerRoundTrip(oneCore, hops);
            System.out.printf("per-message floor, ns per round trip (best of %d rounds of %d hops, no syscalls): on one core: framing +%.0f, framing+clock +%.0f;"
                            + " each message crossing between the two cores (spin hand-off %.0f): framing +%.0f, framing+clock +%.0f%n",
                    rounds, hops, o[FRAMING] - o[HANDOFF], o[CLOCK] - o[HANDOFF], a[HANDOFF], a[FRAMING] - a[HANDOFF], a[CLOCK] - a[HANDOFF]);
        } finally {
            Files.deleteIfExists(clockFile);
            Files.delete(dir);
        }
    }

    /** A round trip is two hops: the best round of each mode, in ns per round trip. */
    private static double[] bestPerRoundTrip(long[][] nanos, int hops) {
        double[] best = new double[MODES];
        for (int mode = 0; mode < MODES; mode++) best[mode] = Arrays.stream(nanos[mode]).min().getAsLong() * 2.0 / hops;
        return best;
    }

    /** Wall time of {@code hops} hops, the two threads alternating. */
    private static long handedOff(Stamper stamper, int mode, int hops) throws InterruptedException {
        turn = 0;
        wire = 0;
        Thread other = new Thread(() -> side(stamper, mode, 1, hops), "clock-floor-peer");
        other.start();
        long t0 = System.nanoTime();
        side(stamper, mode, 0, hops);
        other.join();
        return System.nanoTime() - t0;
    }

    /** Wall time of {@code hops} hops on this thread: both ends of the exchange on one core. */
    private static long oneThread(Stamper stamper, int mode, int hops) {
        End end = End.of(stamper, mode);
        long hlc = 0;
        long t0 = System.nanoTime();
        for (int h = 0; h < hops; h++) {
            if (end != null) hlc = end.reply(hlc);
        }
        long t = System.nanoTime() - t0;
        wire = hlc; // keeps the loop's work
        return t;
    }

    /**
     * One thread's hops: it waits for its turn, receives the message and sends the reply. The
     * frame bytes stay in the thread's own buffer (the kernel's copy between the cores is the same
     * with and without the agent, so it is the baseline's); the HLC crosses in {@link #wire}, next
     * to {@link #turn}.
     */
    private static void side(Stamper stamper, int mode, int me, int hops) {
        End end = End.of(stamper, mode);
        for (long h = me; h < hops; h += 2) {
            while (turn != h) Thread.onSpinWait();
            if (end != null) wire = end.reply(wire);
            turn = h + 1;
        }
    }

    /** One end of the exchange: its frame and payload buffers, and what each hop does there. */
    private static final class End {
        private final Stamper stamper; // null: framing only
        private final byte[] payload = new byte[PAYLOAD];
        private final byte[] frame = new byte[Frame.HEADER_SIZE + PAYLOAD];
        private final Stamper.PendingSend p = new Stamper.PendingSend();

        private End(Stamper stamper) {
            this.stamper = stamper;
            Frame.writeHeader(frame, 0, 0, 0, PAYLOAD);
        }

        /** The end for a mode; null for the bare hand-off, whose hops do nothing. */
        static End of(Stamper stamper, int mode) {
            return mode == HANDOFF ? null : new End(mode == CLOCK ? stamper : null);
        }

        /**
         * The message in {@code frame} (carrying {@code rhlc}) is received, and the reply framed in
         * its place; returns the reply's HLC. Framing only: the reply's HLC is made up.
         */
        long reply(long rhlc) {
            String bad = Frame.validate(frame, 0);
            if (bad != null) throw new IllegalStateException(bad);
            int length = Frame.payloadLength(frame, 0);
            long msg = Frame.msgId(frame, 0);
            if (stamper != null) stamper.receive(null, rhlc, msg, length, -1, p);
            System.arraycopy(frame, Frame.HEADER_SIZE, payload, 0, length);
            long hlc = rhlc + 1;
            if (stamper != null) {
                stamper.sendMessage(null, PAYLOAD, -1, p);
                hlc = p.hlc;
                msg = p.msg;
            }
            Frame.writeHeader(frame, 0, hlc, msg, PAYLOAD);
            System.arraycopy(payload, 0, frame, Frame.HEADER_SIZE, PAYLOAD);
            return hlc;
        }
    }
}
