package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A send must be stamped before its bytes can leave: two JVMs of one executor (one shared clock
 * file) talk plain, and the receive event that delivered a byte, stamped by the peer right after the
 * byte arrived, must have a higher HLC than the send event that carried that byte. Large
 * non-blocking writes make the old order (stamp after the kernel took the bytes) fail reliably:
 * the receiver wakes up while the sender is still inside the write.
 */
@Timeout(120)
class SendStampOrderIT {
    @TempDir
    Path dir;

    @Test
    void everyReceivedByteIsStampedAfterTheSendThatCarriedIt() throws Exception {
        String common = "node: exec1\nclock: " + dir.resolve("clock") + "\nlogDir: " + dir.resolve("logs") + "\nregistryDir: " + dir.resolve("ports") + "\n";
        Path receiverCfg = dir.resolve("receiver.yml");
        Files.writeString(receiverCfg, common);
        Path senderCfg = dir.resolve("sender.yml");
        // without the registry the sender knows no instrumented peer: every path sends plain
        Files.writeString(senderCfg, common + "registry: false\n");
        int bytes = 1_500_000;
        int port;
        try (ChildJvm sink = ChildJvm.withAgent(dir, receiverCfg, "sink-server", "5")) {
            port = sink.port();
            try (ChildJvm sender = ChildJvm.withAgent(dir, senderCfg, "plain-paths-client", Integer.toString(port), Integer.toString(bytes), "9")) {
                assertEquals(0, sender.waitFor(), sender.stderrText());
                assertEquals("OK 5", sender.nextLine());
            }
            sink.stop();
        }
        List<Map<String, String>> events = EventLogs.read(dir.resolve("logs"));
        // sends of the sender by connection (its local address), in offset order
        Map<String, List<Map<String, String>>> sendsByConn = new HashMap<>();
        for (Map<String, String> s : EventLogs.kind(events, "send")) {
            if (!s.get("remote").endsWith(":" + port)) continue; // the sink's digest answers
            assertFalse(s.containsKey("msg"), "the sender talks plain here: " + s);
            sendsByConn.computeIfAbsent(s.get("local"), k -> new ArrayList<>()).add(s);
        }
        int checked = 0;
        List<String> violations = new ArrayList<>();
        for (Map<String, String> r : EventLogs.kind(events, "recv")) {
            List<Map<String, String>> sends = sendsByConn.get(r.get("remote"));
            if (sends == null) continue; // the sender's own receive of the digest answer
            long first = Long.parseLong(r.get("off").split(",")[0]);
            Map<String, String> carrier = null;
            for (Map<String, String> s : sends) {
                String[] off = s.get("off").split(",");
                if (Long.parseLong(off[0]) <= first && first < Long.parseLong(off[1])) carrier = s;
            }
            assertNotNull(carrier, "no send event carried byte " + first + " received in " + r);
            checked++;
            if (Long.compareUnsigned(EventLogs.hlc(r), EventLogs.hlc(carrier)) <= 0) {
                violations.add("receive " + r.get("hlc") + " off " + r.get("off") + " <= its send " + carrier.get("hlc") + " off " + carrier.get("off"));
            }
        }
        assertEquals(5, sendsByConn.size(), "one connection per write path: " + sendsByConn.keySet());
        assertTrue(checked >= 5, "receives checked: " + checked);
        assertTrue(violations.isEmpty(), violations.size() + " of " + checked + " receives stamped before the send of their first byte, e.g. "
                + violations.subList(0, Math.min(5, violations.size())));
    }

}
