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
    @Test
    void randomRecordsFormatExactlyLikeEventLogLine() {
        Random rnd = new Random(42);
        String[] comms = {"python3", "curl", "a\"b\\c", "tab\there", "naïve", "x"};
        ProbeLogFormatter f = new ProbeLogFormatter("B-1");
        ProbeLogFormatter.Output out = new ProbeLogFormatter.Output(16);
        StringBuilder expected = new StringBuilder();
        Map<String, Long> seq = new HashMap<>();
        for (int i = 0; i < 5000; i++) {
            ByteBuffer b = ByteBuffer.allocate(ProbeEvent.SIZE + 16).order(ByteOrder.nativeOrder());
            int at = 8; // a record inside a larger buffer, as in the daemon's batch
            boolean v6 = rnd.nextInt(4) == 0;
            b.putLong(at, rnd.nextLong()).putLong(at + 8, rnd.nextInt(3) == 0 ? 0 : rnd.nextLong()).putLong(at + 16, rnd.nextLong() >>> 1)
                    .putLong(at + 24, rnd.nextInt(1000)).putLong(at + 32, rnd.nextLong() >>> rnd.nextInt(64)).putInt(at + 40, rnd.nextInt())
                    .putInt(at + 44, rnd.nextInt()).putInt(at + 48, 100 + rnd.nextInt(5)).putInt(at + 52, rnd.nextInt()).putInt(at + 56, rnd.nextInt())
                    .putShort(at + 60, (short) (v6 ? 10 : 2)).put(at + 62, (byte) (1 + rnd.nextInt(2))).put(at + 63, (byte) rnd.nextInt(4))
                    .putShort(at + 64, (short) rnd.nextInt(65536)).putShort(at + 66, (short) rnd.nextInt(65536));
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
            b.put(at + 72, la).put(at + 88, ra);
            byte[] comm = comms[rnd.nextInt(comms.length)].getBytes(StandardCharsets.UTF_8);
            b.put(at + 104, comm, 0, Math.min(16, comm.length));
            f.format(b, at, out);
            ProbeEvent e = ProbeEvent.decode(b.slice(at, ProbeEvent.SIZE).order(ByteOrder.nativeOrder()));
            long s = seq.merge(e.proc(), 1L, Long::sum);
            expected.append(e.toLogLine("B-1", s, new StringBuilder())).append('\n');
        }
        assertEquals(expected.toString(), new String(out.buf, 0, out.len, StandardCharsets.UTF_8));
    }
}
