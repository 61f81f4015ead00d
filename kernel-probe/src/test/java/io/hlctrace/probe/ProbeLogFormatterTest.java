package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The daemon's byte formatter writes exactly the lines of ProbeEvent.toLogLine (EventLogLine). */
class ProbeLogFormatterTest {
    private static final String[] COMMS = {"python3", "curl", "a\"b\\c", "tab\there", "naïve", "x"};
    private static final int AT = 8; // a record inside a larger buffer, as in the daemon's batch

    @Test
    void randomRecordsFormatExactlyLikeEventLogLine() {
        Random rnd = new Random(42);
        assertFormatsLikeEventLogLine(rnd, () -> randomRecord(rnd));
    }

    /**
     * Traffic as the daemon sees it: processes keep their connection, cgroup and namespace for many
     * events (the formatter reuses the text of those), and now and then change one of them.
     */
    @Test
    void repeatedFlowsWithOccasionalChangesFormatExactlyLikeEventLogLine() {
        Random rnd = new Random(7);
        ByteBuffer[] flows = new ByteBuffer[12];
        for (int i = 0; i < flows.length; i++) flows[i] = randomRecord(rnd);
        int[] current = {0};
        assertFormatsLikeEventLogLine(rnd, () -> {
            if (rnd.nextInt(10) == 0) current[0] = rnd.nextInt(flows.length);
            ByteBuffer b = ByteBuffer.allocate(ProbeEvent.SIZE + 16).order(ByteOrder.nativeOrder());
            b.put(0, flows[current[0]], 0, b.capacity());
            // what changes from one message to the next on the same connection
            b.putLong(AT, rnd.nextLong()).putLong(AT + 8, rnd.nextInt(3) == 0 ? 0 : rnd.nextLong()).putLong(AT + 16, rnd.nextLong() >>> 1)
                    .putLong(AT + 32, rnd.nextLong() >>> 1 + rnd.nextInt(63)).putInt(AT + 40, rnd.nextInt(1 << 20)).putInt(AT + 44, rnd.nextInt())
                    .put(AT + 62, (byte) (1 + rnd.nextInt(2))).put(AT + 63, (byte) rnd.nextInt(4));
            if (rnd.nextInt(50) == 0) b.putLong(AT + 24, rnd.nextInt(1000)); // moved to another cgroup
            if (rnd.nextInt(50) == 0) b.putInt(AT + 56, rnd.nextInt()); // another network namespace
            if (rnd.nextInt(50) == 0) b.putShort(AT + 64, (short) rnd.nextInt(65536)); // another local port
            return b;
        });
    }

    private static void assertFormatsLikeEventLogLine(Random rnd, java.util.function.Supplier<ByteBuffer> records) {
        ProbeLogFormatter f = new ProbeLogFormatter("B-1");
        ProbeLogFormatter.Output out = new ProbeLogFormatter.Output(16);
        StringBuilder expected = new StringBuilder();
        Map<String, Long> seq = new HashMap<>();
        for (int i = 0; i < 5000; i++) {
            ByteBuffer b = records.get();
            f.format(b, AT, out);
            ProbeEvent e = ProbeEvent.decode(b.slice(AT, ProbeEvent.SIZE).order(ByteOrder.nativeOrder()));
            long s = seq.merge(e.proc(), 1L, Long::sum);
            expected.append(e.toLogLine("B-1", s, new StringBuilder())).append('\n');
        }
        assertEquals(expected.toString(), new String(out.buf, 0, out.len, StandardCharsets.UTF_8));
    }

    private static ByteBuffer randomRecord(Random rnd) {
        ByteBuffer b = ByteBuffer.allocate(ProbeEvent.SIZE + 16).order(ByteOrder.nativeOrder());
        boolean v6 = rnd.nextInt(4) == 0;
        b.putLong(AT, rnd.nextLong()).putLong(AT + 8, rnd.nextInt(3) == 0 ? 0 : rnd.nextLong()).putLong(AT + 16, rnd.nextLong() >>> 1)
                .putLong(AT + 24, rnd.nextInt(1000)).putLong(AT + 32, rnd.nextLong() >>> rnd.nextInt(64)).putInt(AT + 40, rnd.nextInt())
                .putInt(AT + 44, rnd.nextInt()).putInt(AT + 48, 100 + rnd.nextInt(5)).putInt(AT + 52, rnd.nextInt()).putInt(AT + 56, rnd.nextInt())
                .putShort(AT + 60, (short) (v6 ? 10 : 2)).put(AT + 62, (byte) (1 + rnd.nextInt(2))).put(AT + 63, (byte) rnd.nextInt(4))
                .putShort(AT + 64, (short) rnd.nextInt(65536)).putShort(AT + 66, (short) rnd.nextInt(65536));
        byte[] la = new byte[16], ra = new byte[16];
        la[0] = 10;
        la[3] = (byte) rnd.nextInt(3);
        ra[0] = (byte) 0xfd;
        ra[15] = (byte) rnd.nextInt(256);
        if (v6 && rnd.nextBoolean()) { // IPv4-mapped
            la[0] = 0;
            la[10] = (byte) 0xff;
            la[11] = (byte) 0xff;
            la[12] = 10;
        }
        b.put(AT + 72, la).put(AT + 88, ra);
        byte[] comm = COMMS[rnd.nextInt(COMMS.length)].getBytes(StandardCharsets.UTF_8);
        b.put(AT + 104, comm, 0, Math.min(16, comm.length));
        return b;
    }
}
