package io.hlctrace.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.ManualPhysicalClock;
import io.hlctrace.sync.SyncStatus.Health;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The health state machine and interval logic on a manual clock: no network, no real time. */
class SyncEngineTest {
    static final long HOUR = 3_600_000_000_000L;
    static final long MS = 1_000_000L;
    final ManualPhysicalClock base = new ManualPhysicalClock(1_800_000_000_000_000_000L);
    final ExecutorClockState state = new ExecutorClockState(ByteBuffer.allocateDirect(ExecutorClockState.SIZE), 0);

    SyncEngine engine(boolean correct, String... peers) {
        SyncConfig.Builder b = SyncConfig.builder("a").bind("127.0.0.1:0").heartbeat(Duration.ofMillis(100))
                .monitorInterval(Duration.ofMillis(500)).maxOffset(Duration.ofMillis(250)).maxDriftPpm(15).correct(correct).startupGrace(Duration.ZERO);
        int port = 7401;
        for (String p : peers) b.peer(p, "127.0.0.1:" + port++);
        return new SyncEngine(b.build(), state, base);
    }

    /** One exchange with a peer whose clock reads real time + peerOffset; delays in ns. */
    SyncEngine.SampleOutcome exchange(SyncEngine e, String peer, long peerOffset, long peerGen, long out, long back) {
        long gen = e.generation();
        long t1 = e.executorClock().nanos();
        base.advance(out);
        long t2 = base.nanos() + peerOffset;
        base.advance(20_000);
        long t3 = base.nanos() + peerOffset;
        base.advance(back);
        long t4 = e.executorClock().nanos();
        return e.offer(peer, t1, t2, t3, t4, peerGen, gen, false);
    }

    @Test
    void anExecutorWithoutPeersIsItsOwnTimeSource() {
        SyncEngine e = engine(true);
        SyncStatus s = e.monitor();
        assertEquals(Health.HEALTHY, s.health());
        assertEquals(0, state.get(ExecutorClockState.OFFSET_NS));
        assertEquals(0, s.syncErrorNs());
        assertEquals(List.of("a"), s.agreed().members());
    }

    @Test
    void twoHoursBehindIsDetectedAndWithoutCorrectionStaysUnhealthy() {
        state.setSkew(-2 * HOUR, 0, 0);
        SyncEngine e = engine(false, "b", "c");
        List<SyncEngine.HealthChange> changes = new ArrayList<>();
        e.addHealthListener(changes::add);
        for (int round = 0; round < 3; round++) {
            exchange(e, "b", 0, 0, 50_000, 60_000);
            exchange(e, "c", 0, 0, 40_000, 40_000);
            base.advance(100 * MS);
            e.heartbeat();
        }
        SyncStatus s = e.monitor();
        assertEquals(Health.UNHEALTHY, s.health());
        assertTrue(state.unhealthy(), "the fail-stop flag is set in the clock record");
        assertTrue(s.reason().contains("outside the max offset"), s.reason());
        assertEquals(-2 * HOUR, state.get(ExecutorClockState.OFFSET_NS), "no correction when correct is off");
        assertEquals(List.of("b", "c"), s.agreed().members());
        long peerOffset = s.peer("b").offsetNs();
        assertTrue(Math.abs(peerOffset - 2 * HOUR) <= s.peer("b").errorNs(), "b is seen two hours ahead: " + peerOffset);
        assertEquals(1, changes.size());
        assertEquals(Health.UNHEALTHY, changes.get(0).to());
    }

    @Test
    void twoHoursBehindIsCorrectedAndRecovers() {
        state.setSkew(-2 * HOUR, 0, 0);
        SyncEngine e = engine(true, "b", "c");
        List<SyncEngine.HealthChange> changes = new ArrayList<>();
        e.addHealthListener(changes::add);
        exchange(e, "b", 0, 0, 50_000, 60_000);
        exchange(e, "c", 0, 0, 40_000, 40_000);
        SyncStatus first = e.monitor();
        assertEquals(Health.UNHEALTHY, first.health(), "detected before it is corrected");
        assertEquals(1, e.generation());
        long residual = state.get(ExecutorClockState.OFFSET_NS);
        assertTrue(Math.abs(residual) <= first.syncErrorNs() && first.syncErrorNs() < MS,
                "corrected to within the error bound: offset " + residual + " error " + first.syncErrorNs());
        // an answer to a request sent before the correction measured the old clock
        assertEquals(SyncEngine.SampleOutcome.STALE_GENERATION,
                e.offer("b", 0, 1, 2, 3, 0, 0, false));
        base.advance(100 * MS);
        exchange(e, "b", 0, 0, 50_000, 60_000);
        exchange(e, "c", 0, 0, 40_000, 40_000);
        SyncStatus second = e.monitor();
        assertEquals(Health.HEALTHY, second.health(), second.reason());
        assertFalse(state.unhealthy());
        assertTrue(Math.abs(state.get(ExecutorClockState.OFFSET_NS)) <= second.syncErrorNs());
        assertEquals(List.of(Health.UNHEALTHY, Health.HEALTHY), changes.stream().map(SyncEngine.HealthChange::to).toList());
    }

    @Test
    void aPartitionedExecutorFailsStopAndRecoversWhenPeersAnswerAgain() {
        SyncEngine e = engine(true, "b", "c");
        exchange(e, "b", 10_000, 0, 50_000, 50_000);
        exchange(e, "c", -10_000, 0, 50_000, 50_000);
        assertEquals(Health.HEALTHY, e.monitor().health());
        base.advance(500 * MS);
        SyncStatus alone = e.monitor(); // nobody answered in this interval
        assertEquals(Health.UNHEALTHY, alone.health());
        assertTrue(alone.reason().contains("only 0 of 2 peers answered"), alone.reason());
        assertTrue(state.unhealthy());
        assertFalse(alone.peer("b").sampled());
        assertTrue(alone.peer("b").lastContactNs() > 0, "the last contact is still reported");
        exchange(e, "c", 0, 0, 50_000, 50_000);
        SyncStatus back = e.monitor();
        assertEquals(Health.HEALTHY, back.health(), "self and one of two peers are a majority of three");
        assertFalse(state.unhealthy());
        assertEquals(1, back.unhealthyTransitions());
    }

    @Test
    void peersNotYetStartedAreNoFailureDuringTheStartupGraceButAClockFoundOffIs() {
        SyncConfig.Builder b = SyncConfig.builder("a").bind("127.0.0.1:0").peer("b", "127.0.0.1:7401").peer("c", "127.0.0.1:7402")
                .heartbeat(Duration.ofMillis(100)).monitorInterval(Duration.ofMillis(500)).startupGrace(Duration.ofSeconds(2));
        SyncEngine e = new SyncEngine(b.build(), state, base);
        base.advance(500 * MS);
        SyncStatus s = e.monitor();
        assertEquals(Health.STARTING, s.health(), s.reason());
        assertFalse(state.unhealthy());
        base.advance(2_000 * MS);
        assertEquals(Health.UNHEALTHY, e.monitor().health(), "after the grace, silence is a failure");

        state.set(ExecutorClockState.FLAGS, 0);
        SyncEngine fresh = new SyncEngine(b.build(), state, base);
        exchange(fresh, "b", 2 * HOUR, 0, 50_000, 50_000);
        exchange(fresh, "c", 2 * HOUR, 0, 50_000, 50_000);
        assertEquals(Health.UNHEALTHY, fresh.monitor().health(), "a clock found off fails at once, grace or not");
    }

    @Test
    void samplesOlderThanAMonitorIntervalAreDiscarded() {
        SyncEngine e = engine(true, "b", "c");
        exchange(e, "b", 0, 0, 50_000, 50_000);
        exchange(e, "c", 0, 0, 50_000, 50_000);
        base.advance(600 * MS); // longer than the 500 ms monitor interval
        SyncStatus s = e.monitor();
        assertEquals(Health.UNHEALTHY, s.health(), "stale samples must not keep an executor healthy: " + s.reason());
    }

    @Test
    void peersThatDisagreeGiveNoMajority() {
        SyncEngine e = engine(true, "b", "c");
        exchange(e, "b", HOUR, 0, 50_000, 50_000);
        exchange(e, "c", -HOUR, 0, 50_000, 50_000);
        SyncStatus s = e.monitor();
        assertEquals(Health.UNHEALTHY, s.health());
        assertTrue(s.reason().contains("disagree"), s.reason());
        assertEquals(0, state.get(ExecutorClockState.OFFSET_NS), "no majority, no correction");
    }

    @Test
    void aNewIntervalReplacesTheCurrentOnlyWhenHealthier() {
        SyncEngine e = engine(false, "b", "c");
        exchange(e, "b", 100_000, 0, 50_000, 50_000);
        e.heartbeat(); // self + b
        exchange(e, "c", 120_000, 0, 50_000, 50_000);
        e.heartbeat(); // self + b + c: more sources, replaces
        // c corrects its clock by a whole second (new generation): its newest sample now disagrees,
        // and the interval agreed by fewer sources must not replace the healthier one
        exchange(e, "c", 1_000 * MS, 1, 50_000, 50_000);
        e.heartbeat();
        SyncStatus s = e.monitor();
        assertEquals(3, s.agreed().sources(), "the healthier interval of this monitor interval was kept");
        assertEquals(Health.HEALTHY, s.health());
        assertEquals(1_000 * MS, s.peer("c").offsetNs(), 100_000, "the status shows c's newest sample");
    }

    @Test
    void theBestSampleOfAnIntervalIsTheOneWithTheSmallestError() {
        SyncEngine e = engine(false, "b");
        assertEquals(SyncEngine.SampleOutcome.KEPT, exchange(e, "b", 5_000, 0, 300_000, 300_000));
        assertEquals(SyncEngine.SampleOutcome.KEPT, exchange(e, "b", 5_000, 0, 30_000, 30_000));
        assertEquals(SyncEngine.SampleOutcome.NOT_BETTER, exchange(e, "b", 5_000, 0, 900_000, 100_000));
        SyncStatus s = e.monitor();
        assertEquals(30_000, s.peer("b").errorNs(), 1_000);
        assertEquals(5_000, s.peer("b").offsetNs(), 1_000);
        assertEquals(SyncEngine.SampleOutcome.UNKNOWN_PEER, e.offer("zz", 0, 0, 0, 0, 0, 0, false));
    }
}
