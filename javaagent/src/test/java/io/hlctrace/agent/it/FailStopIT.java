package io.hlctrace.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.ExecutorClockState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fail-stop in the agent: two JVMs of one executor (one shared clock file) exchange framed echo
 * messages in three phases; the test sets the clock record's unhealthy flag (what clock-sync does
 * on fail-stop) for the middle phase only. With failMode mark-unhealthy exactly the middle phase's
 * events say "unhealthy"; with failMode refuse the middle phase hands out no timestamp at all (the
 * executor's HLC word does not move), no event is logged for it, the bytes still arrive intact, and
 * drop events with cause fail-stop account for every event that was not stamped.
 */
@Timeout(120)
class FailStopIT {
    private static final int MESSAGES = 150;

    @TempDir
    Path dir;

    private record Run(List<Map<String, String>> events, long[] phaseEnds, long hlcBeforeMiddle, long hlcAfterMiddle, String clientStderr) {
        /** The phase (1..3) of a send or receive, from where its bytes start in the echo stream. */
        int phase(Map<String, String> e) {
            long start = Long.parseLong(e.get("off").split(",")[0]);
            for (int p = 0; p < 3; p++) {
                if (start < phaseEnds[p]) return p + 1;
            }
            throw new AssertionError("event beyond the last phase: " + e);
        }

        List<Map<String, String>> messageEvents() {
            List<Map<String, String>> out = new ArrayList<>(EventLogs.kind(events, "send"));
            out.addAll(EventLogs.kind(events, "recv"));
            return out;
        }
    }

    private Run run(String failMode, String clientApi) throws Exception {
        Path clock = dir.resolve("clock");
        String cfg = "node: exec1\nclock: " + clock + "\nlogDir: " + dir.resolve("logs") + "\nregistryDir: " + dir.resolve("ports")
                + "\nfailMode: " + failMode + "\n";
        Path config = dir.resolve("agent.yml");
        Files.writeString(config, cfg);
        long[] ends = new long[3];
        long before;
        long after;
        String clientErr;
        try (ExecutorClockFile file = ExecutorClockFile.openOrCreate(clock);
             ChildJvm server = ChildJvm.withAgent(dir, config, "echo-server")) {
            ExecutorClockState state = file.state();
            int port = server.port();
            try (ChildJvm client = ChildJvm.withAgent(dir, config, "phase-client", Integer.toString(port), "3", Integer.toString(MESSAGES), "42", clientApi)) {
                OutputStream stdin = client.process.getOutputStream();
                assertEquals("READY", client.nextLine(), client.stderrText());
                ends[0] = phase(client, stdin, 1);
                state.set(ExecutorClockState.FLAGS, state.get(ExecutorClockState.FLAGS) | ExecutorClockState.FLAG_UNHEALTHY);
                before = state.get(ExecutorClockState.HLC);
                ends[1] = phase(client, stdin, 2);
                after = state.get(ExecutorClockState.HLC);
                state.set(ExecutorClockState.FLAGS, state.get(ExecutorClockState.FLAGS) & ~ExecutorClockState.FLAG_UNHEALTHY);
                ends[2] = phase(client, stdin, 3);
                String[] sha = client.awaitLine("SHA ").split(" ");
                assertEquals(sha[1], sha[2], "the echoed bytes equal the bytes sent (SHA-256)");
                assertEquals(0, client.waitFor(), client.stderrText());
                clientErr = client.stderrText();
            }
            server.stop();
            assertFalse(server.stderrText().contains("Exception"), server.stderrText());
        }
        return new Run(EventLogs.read(dir.resolve("logs")), ends, before, after, clientErr);
    }

    private static long phase(ChildJvm client, OutputStream stdin, int n) throws Exception {
        stdin.write(("GO " + n + "\n").getBytes(StandardCharsets.US_ASCII));
        stdin.flush();
        String done = client.awaitLine("DONE " + n + " ");
        return Long.parseLong(done.split(" ")[2]);
    }

    @Test
    void markUnhealthyMarksExactlyTheMiddlePhase() throws Exception {
        Run r = run("mark-unhealthy", "socket");
        int[] unhealthyByPhase = new int[4];
        int[] byPhase = new int[4];
        for (Map<String, String> e : r.messageEvents()) {
            int p = r.phase(e);
            byPhase[p]++;
            if ("true".equals(e.get("unhealthy"))) unhealthyByPhase[p]++;
        }
        // per message: the client's send and receive, the server's receive and send
        for (int p = 1; p <= 3; p++) assertEquals(4 * MESSAGES, byPhase[p], "events of phase " + p);
        assertEquals(0, unhealthyByPhase[1], "phase 1 was healthy");
        assertEquals(4 * MESSAGES, unhealthyByPhase[2], "every event of the unhealthy phase is marked");
        assertEquals(0, unhealthyByPhase[3], "phase 3 was healthy again");
        assertTrue(Long.compareUnsigned(r.hlcAfterMiddle, r.hlcBeforeMiddle) > 0, "mark-unhealthy keeps stamping");
        for (Map<String, String> e : r.events) {
            if (!e.containsKey("off")) assertFalse("true".equals(e.get("unhealthy")), "only the middle phase is unhealthy: " + e);
        }
        assertTrue(EventLogs.kind(r.events, "drop").isEmpty(), "nothing dropped: " + EventLogs.kind(r.events, "drop"));
    }

    /** The client writes through Socket streams or a blocking SocketChannel (the server: Socket streams). */
    @ParameterizedTest
    @ValueSource(strings = {"socket", "channel"})
    void refuseStampsNothingWhileUnhealthyAndReportsWhatItSkipped(String client) throws Exception {
        Run r = run("refuse", client);
        int[] byPhase = new int[4];
        for (Map<String, String> e : r.messageEvents()) byPhase[r.phase(e)]++;
        assertEquals(4 * MESSAGES, byPhase[1], "phase 1 stamped");
        assertEquals(0, byPhase[2], "no send or receive stamped while unhealthy");
        assertEquals(4 * MESSAGES, byPhase[3], "stamping resumed when healthy again");
        assertEquals(r.hlcBeforeMiddle, r.hlcAfterMiddle, "no timestamp handed out (and nothing merged) while unhealthy");
        for (Map<String, String> e : r.events) assertFalse("true".equals(e.get("unhealthy")), "nothing stamped while unhealthy: " + e);

        // per process, the fail-stop drop events count exactly what was skipped: a send and a receive per message
        List<Map<String, String>> drops = EventLogs.kind(r.events, "drop");
        Map<String, Long> droppedByFile = new java.util.TreeMap<>();
        for (Map<String, String> d : drops) {
            assertEquals("fail-stop", d.get("cause"), "drop cause: " + d);
            droppedByFile.merge(d.get("_file"), Long.parseLong(d.get("dropped")), Long::sum);
        }
        assertEquals(2, droppedByFile.size(), "a fail-stop drop report from each JVM: " + drops);
        for (Map.Entry<String, Long> e : droppedByFile.entrySet()) {
            assertEquals(2L * MESSAGES, e.getValue(), "events reported as not stamped by " + e.getKey());
        }
        assertTrue(r.clientStderr.contains("events were not stamped while it was unhealthy"), r.clientStderr);

        // after recovery (and before it), every receive carries its send's HLC and orders after it
        Map<String, Map<String, String>> sends = EventLogs.byMsg(r.events, "send");
        int checked = 0;
        for (Map<String, String> recv : EventLogs.kind(r.events, "recv")) {
            Map<String, String> send = sends.get(recv.get("msg"));
            assertNotNull(send, "receive without its send: " + recv);
            assertEquals(send.get("hlc"), recv.get("rhlc"), "rhlc is the send's HLC: " + recv);
            assertTrue(Long.compareUnsigned(EventLogs.hlc(recv), EventLogs.hlc(send)) > 0, "receive after its send: " + recv + " / " + send);
            checked++;
        }
        assertEquals(4 * MESSAGES, checked, "receives of phases 1 and 3");
        assertNotEquals(0, r.hlcBeforeMiddle);
    }
}
