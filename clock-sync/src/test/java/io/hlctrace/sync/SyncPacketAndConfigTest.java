package io.hlctrace.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

class SyncPacketAndConfigTest {
    @Test
    void packetsRoundTripSignedAndUnsigned() throws Exception {
        Mac mac = SyncPacket.newMac("a-key-of-sixteen-bytes".getBytes(StandardCharsets.UTF_8));
        SyncPacket p = new SyncPacket(SyncPacket.RESPONSE, true, "executor-ä", 7, 1, 2, 3, 9);
        ByteBuffer buf = ByteBuffer.allocate(SyncPacket.MAX_SIZE);
        p.encode(buf, mac);
        assertEquals(SyncPacket.HEADER + "executor-ä".getBytes(StandardCharsets.UTF_8).length + SyncPacket.MAC_BYTES, buf.limit());
        byte[] bytes = Arrays.copyOf(buf.array(), buf.limit());
        assertEquals(p, SyncPacket.decode(bytes, bytes.length, mac));
        p.encode(buf, null);
        assertEquals(p, SyncPacket.decode(buf.array(), buf.limit(), null));
    }

    @Test
    void anAlteredOrUnsignedPacketFailsAuthentication() {
        Mac mac = SyncPacket.newMac("a-key-of-sixteen-bytes".getBytes(StandardCharsets.UTF_8));
        ByteBuffer buf = ByteBuffer.allocate(SyncPacket.MAX_SIZE);
        new SyncPacket(SyncPacket.RESPONSE, false, "b", 7, 1, 2, 3, 0).encode(buf, mac);
        byte[] bytes = Arrays.copyOf(buf.array(), buf.limit());
        bytes[30] ^= 1; // t2 shifted by an attacker
        var e = assertThrows(SyncPacket.RejectedPacketException.class, () -> SyncPacket.decode(bytes, bytes.length, mac));
        assertEquals(SyncPacket.Rejection.AUTH, e.rejection());
        new SyncPacket(SyncPacket.RESPONSE, false, "b", 7, 1, 2, 3, 0).encode(buf, null);
        var unsigned = assertThrows(SyncPacket.RejectedPacketException.class, () -> SyncPacket.decode(buf.array(), buf.limit(), mac));
        assertEquals(SyncPacket.Rejection.AUTH, unsigned.rejection());
        var truncated = assertThrows(SyncPacket.RejectedPacketException.class, () -> SyncPacket.decode(bytes, 40, mac));
        assertEquals(SyncPacket.Rejection.MALFORMED, truncated.rejection());
    }

    @Test
    @SuppressWarnings("unchecked")
    void configFromTheProbesYamlSection() {
        String yaml = """
                sync:
                  executor: a
                  bind: 127.0.0.1:7400
                  peers:
                    - {id: b, address: "127.0.0.1:7401"}
                    - c=127.0.0.1:7402
                  heartbeat: 100ms
                  monitor-interval: 1s
                  max-offset: 250ms
                  correct: false
                  fail-mode: refuse
                  hmac-key: hex:00112233445566778899aabbccddeeff
                  status-file: /tmp/x.json
                """;
        Map<String, Object> root = new Yaml().load(yaml);
        SyncConfig c = SyncConfig.fromMap((Map<String, Object>) root.get("sync"));
        assertEquals("a", c.executorId());
        assertEquals(List.of("b", "c"), c.peers().stream().map(SyncConfig.Peer::id).toList());
        assertEquals(7402, c.peers().get(1).address().getPort());
        assertEquals(Duration.ofSeconds(1), c.monitorInterval());
        assertEquals(10, c.heartbeatsPerMonitor());
        assertEquals(SyncConfig.FailMode.REFUSE, c.failMode());
        assertEquals(16, c.hmacKey().orElseThrow().length);
        assertEquals(2, c.majority());
    }

    @Test
    void theProbesTopLevelValuesFillWhatTheSectionOmits() {
        Map<String, Object> section = new LinkedHashMap<>(Map.of("peers", List.of("db-1=127.0.0.1:7401"), "max_offset", "100ms"));
        SyncConfig c = SyncConfig.fromMap(section, "sync", Map.of("executor", "web-1", "max-offset", "500ms"));
        assertEquals("web-1", c.executorId());
        assertEquals(Duration.ofMillis(100), c.maxOffset(), "the section wins over the defaults; snake_case works");
        assertEquals(StatusCommand.DEFAULT_STATUS, c.statusFile().orElseThrow());
    }

    @Test
    void badConfigIsRefusedWithItsLocation() {
        Map<String, Object> m = new LinkedHashMap<>(Map.of("executor", "a", "peers", List.of(Map.of("id", "b", "address", "127.0.0.1:notaport"))));
        var e = assertThrows(IllegalArgumentException.class, () -> SyncConfig.fromMap(m));
        assertTrue(e.getMessage().startsWith("sync.peers[0].address"), e.getMessage());

        Map<String, Object> m2 = new LinkedHashMap<>(Map.of("executor", "a", "heartbeat", "100ms", "monitor-interval", "250ms"));
        var e2 = assertThrows(IllegalArgumentException.class, () -> SyncConfig.fromMap(m2));
        assertTrue(e2.getMessage().contains("multiple"), e2.getMessage());

        Map<String, Object> m3 = new LinkedHashMap<>(Map.of("executor", "a", "hmac-key", "short"));
        var e3 = assertThrows(IllegalArgumentException.class, () -> SyncConfig.fromMap(m3));
        assertTrue(e3.getMessage().contains("at least 16"), e3.getMessage());

        Map<String, Object> m4 = new LinkedHashMap<>(Map.of("executor", "a", "max-ofset", "1s"));
        var e4 = assertThrows(IllegalArgumentException.class, () -> SyncConfig.fromMap(m4));
        assertTrue(e4.getMessage().contains("sync.max-ofset: unknown key"), e4.getMessage());

        Map<String, Object> m5 = new LinkedHashMap<>(Map.of("executor", "a", "peers", List.of("a=127.0.0.1:1")));
        var e5 = assertThrows(IllegalArgumentException.class, () -> SyncConfig.fromMap(m5));
        assertTrue(e5.getMessage().contains("appears twice"), e5.getMessage());
    }

    @Test
    void statusJsonRoundTripsAndRendersTheTrueTimeInterval() {
        SyncStatus s = new SyncStatus("a", 1_800_000_000_000_000_000L, SyncStatus.Health.HEALTHY, "healthy: 3 of 3 \"agree\"", true,
                "mark-unhealthy", 1234, 85_000, -20_000, 3, 250_000_000, 100_000_000, 500_000_000, 1,
                new SyncStatus.Agreed(-10, 20, 3, 3, List.of("a", "b", "c")),
                List.of(new SyncStatus.PeerStatus("b", "10.202.12.2:7400", true, 12_000, 40_000, 80_000, 1_799_999_999_900_000_000L, 9, true, false)),
                new SyncStatus.Traffic(10, 490, 10, 490, 1, 2, 3, 4, 20.0, 980.0, 20.0, 980.0));
        assertEquals(s, SyncStatus.fromJson(s.toJson()));
        String text = StatusCommand.render(s, 1_800_000_000_000_000_000L, 85_000, false);
        assertTrue(text.contains("now: [2027-01-15T07:59:59.999915Z, 2027-01-15T08:00:00.000085Z]"), text);
        long[] now = s.nowInterval(1_000_000);
        assertEquals(915_000, now[0]);
        assertEquals(1_085_000, now[1]);
        assertTrue(text.contains("+12.0us") && text.contains("40.0us") && text.contains("80.0us") && text.contains("100.000ms ago"), text);
        assertTrue(text.contains("1 failed authentication"), text);
    }
}
