package io.hlctrace.probe;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The daemon's CPU per event spent formatting (scripts/bench-probe.sh runs it first): the byte
 * formatter the daemon uses ({@link ProbeLogFormatter}) against the String path it replaced, in
 * the same run: decode each record to a {@link ProbeEvent}, build the line with EventLogLine, encode
 * it to UTF-8 (the output is the same bytes; ProbeLogFormatterTest checks that). The records are a
 * loopback ping-pong's: two processes, one IPv4 connection each way, 100-byte messages.
 * Usage: FormatterBench [ROUNDS]; prints ns per event of both paths (median of the rounds) and their ratio.
 */
public final class FormatterBench {
    private static final int RECORDS = 4096, PASSES = 100;

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        ByteBuffer records = pingPongRecords();
        ProbeLogFormatter formatter = new ProbeLogFormatter("B");
        ProbeLogFormatter.Output out = new ProbeLogFormatter.Output(4 << 20);
        StringBuilder reuse = new StringBuilder(512);
        long[] seq = new long[2];
        long sink = 0;
        double[] bytePath = new double[rounds], stringPath = new double[rounds];
        for (int r = -2; r < rounds; r++) { // two rounds of JIT warm-up, not counted
            long t0 = System.nanoTime();
            for (int pass = 0; pass < PASSES; pass++) {
                for (int i = 0; i < RECORDS; i++) formatter.format(records, i * ProbeEvent.SIZE, out);
                sink += out.len;
                out.reset();
            }
            long t1 = System.nanoTime();
            for (int pass = 0; pass < PASSES; pass++) {
                for (int i = 0; i < RECORDS; i++) {
                    ProbeEvent e = ProbeEvent.decode(records.slice(i * ProbeEvent.SIZE, ProbeEvent.SIZE).order(ByteOrder.nativeOrder()));
                    byte[] line = (e.toLogLine("B", ++seq[i & 1], reuse) + "\n").getBytes(StandardCharsets.UTF_8);
                    sink += line.length;
                }
            }
            long t2 = System.nanoTime();
            if (r >= 0) {
                bytePath[r] = (t1 - t0) / (double) (PASSES * RECORDS);
                stringPath[r] = (t2 - t1) / (double) (PASSES * RECORDS);
            }
        }
        double b = median(bytePath), s = median(stringPath);
        System.out.printf("daemon formatting, ns per event (median of %d rounds of %d events): byte formatter %.0f, String path %.0f, byte/String %.2f%n",
                rounds, PASSES * RECORDS, b, s, b / s);
        if (sink == 42) System.out.print(""); // keeps the work observable
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    private static ByteBuffer pingPongRecords() {
        ByteBuffer b = ByteBuffer.allocateDirect(RECORDS * ProbeEvent.SIZE).order(ByteOrder.nativeOrder());
        for (int i = 0; i < RECORDS; i++) {
            int at = i * ProbeEvent.SIZE;
            boolean client = i % 2 == 0;
            b.putLong(at, 0x6b039a502f2a0000L + i).putLong(at + 8, client ? 0 : 0x6b037e302f260000L + i)
                    .putLong(at + 16, 1795398224184235099L + i * 1000L).putLong(at + 24, 25).putLong(at + 32, (i / 2) * 100L)
                    .putInt(at + 40, 100).putInt(at + 44, 328826422 + (i / 2) * 100).putInt(at + 48, client ? 13819 : 13820)
                    .putInt(at + 52, client ? 13819 : 13820).putInt(at + 56, (int) 4026532177L).putShort(at + 60, (short) ProbeEvent.AF_INET)
                    .put(at + 62, (byte) (client ? ProbeEvent.KIND_SEND : ProbeEvent.KIND_RECV))
                    .putShort(at + 64, (short) (client ? 45058 : 7000)).putShort(at + 66, (short) (client ? 7000 : 45058));
            b.put(at + 72, (byte) 10).put(at + 75, (byte) (client ? 1 : 2)).put(at + 88, (byte) 10).put(at + 91, (byte) (client ? 2 : 1));
            b.put(at + 104, "python3".getBytes(StandardCharsets.US_ASCII));
        }
        return b;
    }
}
