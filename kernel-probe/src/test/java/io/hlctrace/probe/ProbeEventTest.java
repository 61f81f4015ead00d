package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

/** The decoder against a record laid out as struct probe_event (message_events.bpf.c). */
class ProbeEventTest {
    @Test
    void decodesARecvRecordIntoAnEventLogLine() {
        ByteBuffer b = ByteBuffer.allocate(ProbeEvent.SIZE).order(ByteOrder.nativeOrder());
        b.putLong(0, 0x6932a5e61f3a0004L).putLong(8, 0x6932a5e61f390001L).putLong(16, 1_763_861_366_123_456_789L)
                .putLong(24, 77).putLong(32, 4_294_967_300L).putInt(40, 512).putInt(44, 0xFFFFFF00).putInt(48, 812)
                .putInt(52, 813).putInt(56, (int) 4026531840L).putShort(60, (short) 2).put(62, (byte) 2).put(63, (byte) 1)
                .putShort(64, (short) 8080).putShort(66, (short) 41234);
        b.put(72, new byte[] {10, (byte) 201, 0, 2}).put(88, new byte[] {10, (byte) 201, 0, 1}).put(104, "python3".getBytes());
        ProbeEvent e = ProbeEvent.decode(b);
        assertEquals("python3:812", e.proc());
        assertEquals("10.201.0.2:8080", e.local());
        assertEquals("10.201.0.1:41234", e.remote());
        assertTrue(e.refused());
        String line = e.toLogLine("B", 3, new StringBuilder());
        assertEquals("{\"v\":1,\"hlc\":\"6932a5e61f3a0004\",\"node\":\"B\",\"proc\":\"python3:812\",\"seq\":3,\"kind\":\"recv\","
                + "\"pt\":1763861366123456789,\"src\":\"probe\",\"conn\":{\"proto\":\"tcp\",\"local\":\"10.201.0.2:8080\",\"remote\":\"10.201.0.1:41234\"},"
                + "\"bytes\":512,\"off\":[4294967300,4294967812],\"tcp_seq\":[4294967040,256],\"rhlc\":\"6932a5e61f390001\",\"refused\":true,"
                + "\"pid\":812,\"comm\":\"python3\",\"cgroup\":77,\"netns\":4026531840}", line);
    }

    @Test
    void unhealthyFlagFromTheKernelBecomesTheUnhealthyField() {
        ByteBuffer b = ByteBuffer.allocate(ProbeEvent.SIZE).order(ByteOrder.nativeOrder());
        b.putLong(0, 0x6932a5e61f3a0004L).putShort(60, (short) 2).put(62, (byte) 1).put(63, (byte) ProbeEvent.FLAG_UNHEALTHY).put(104, "curl".getBytes());
        ProbeEvent e = ProbeEvent.decode(b);
        assertTrue(e.unhealthy());
        assertTrue(e.toLogLine("A", 1, new StringBuilder()).contains(",\"unhealthy\":true,"));
        b.put(63, (byte) 0);
        assertTrue(!ProbeEvent.decode(b).toLogLine("A", 1, new StringBuilder()).contains("unhealthy"));
    }

    @Test
    void ipv6AndMappedAddresses() {
        byte[] v6 = new byte[16];
        v6[0] = (byte) 0xfd;
        v6[15] = 1;
        assertEquals("[fd00:0:0:0:0:0:0:1]:80", ProbeEvent.endpoint(v6, 80));
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 10;
        mapped[15] = 7;
        assertEquals("10.0.0.7:80", ProbeEvent.endpoint(mapped, 80));
    }
}
