package io.hlctrace.demo.scalemodel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproduces the notebook's observations (shared/seeds/001) with three real machine JVMs on loopback
 * sockets: a minute of model time at ten times speed per run. Thresholds sit far from the values
 * such runs give (see the numbers in docs/demo.md) so scheduling noise cannot flip them.
 */
class ScaleModelTest {

    private static ScaleModelAnalysis run(Path dir, int[] rates, double internal, long seed) throws Exception {
        return ScaleModel.run(new ScaleModelConfig(rates, internal, Duration.ofSeconds(60), 10, seed, dir));
    }

    @Test
    void slowestMachineJumpsAndItsQueueGrows(@TempDir Path dir) throws Exception {
        ScaleModelAnalysis a = run(dir, new int[]{1, 3, 6}, 0.6, 1);
        ScaleModelAnalysis.MachineStats slow = a.slowest(), fast = a.fastest();
        assertEquals(3, a.machines().size());
        // every machine ran its ticks: rate * 60 s, give or take the last one
        for (ScaleModelAnalysis.MachineStats m : a.machines()) {
            assertTrue(Math.abs(m.ticks() - m.rate() * 60) <= 2, m.name() + " ran " + m.ticks() + " ticks at rate " + m.rate());
        }
        assertTrue(slow.finalQueue() > 20, "the slowest machine's queue should keep growing; it ends at " + slow.finalQueue() + "\n" + a.markdownTable());
        // a few messages can wait while the machine (or the whole CI host) is descheduled; a backlog cannot build
        assertTrue(fast.maxQueue() <= 6 && fast.meanQueue() < 0.5, "the fastest machine should never build a backlog\n" + a.markdownTable());
        assertTrue(slow.jumps() > 10 && slow.meanJumpPerReceive() > 1, "the slowest machine's Lamport clock should jump often\n" + a.markdownTable());
        assertTrue(slow.meanJumpPerReceive() > 4 * fast.meanJumpPerReceive() + 0.5, "the slowest machine jumps more than the fastest\n" + a.markdownTable());
        assertTrue(slow.meanLagBehindLeader() > 20 && fast.meanLagBehindLeader() < 5, "the slowest machine falls behind the leader\n" + a.markdownTable());
        // the HLC beside it stays with the shared system clock however far Lamport runs
        for (ScaleModelAnalysis.MachineStats m : a.machines()) {
            assertTrue(Math.abs(m.maxHlcAheadOfSystemMillis()) < 50, m.name() + " HLC strays from the system clock\n" + a.markdownTable());
        }
        assertTrue(Files.readString(a.markdownFile()).contains("| machine |"));
        for (Path svg : a.plots()) assertTrue(Files.readString(svg).contains("<polyline"), svg + " has no lines");
    }

    @Test
    void equalRatesGiveFewSmallJumpsAndNoBacklog(@TempDir Path dir) throws Exception {
        ScaleModelAnalysis a = run(dir, new int[]{3, 3, 3}, 0.6, 2);
        // at ten times speed a scheduling pause of a few hundred ms is a few ticks: bounds leave room for that
        for (ScaleModelAnalysis.MachineStats m : a.machines()) {
            assertTrue(m.maxJump() <= 4 && m.meanJumpPerReceive() < 0.6, m.name() + " jumped " + m.maxJump() + " with equal rates\n" + a.markdownTable());
            assertTrue(m.meanQueue() < 0.5 && m.maxQueue() <= 8, m.name() + " built a queue with equal rates\n" + a.markdownTable());
            assertTrue(m.meanLagBehindLeader() < 3, m.name() + " drifted with equal rates\n" + a.markdownTable());
        }
    }

    @Test
    void fewerInternalEventsBackLogTheSlowestMachine(@TempDir Path dir) throws Exception {
        int[] rates = {4, 5, 6};
        ScaleModelAnalysis many = run(dir.resolve("p60"), rates, 0.6, 3);
        ScaleModelAnalysis few = run(dir.resolve("p25"), rates, 0.25, 3);
        double before = many.slowest().meanQueue(), after = few.slowest().meanQueue();
        assertTrue(after > 3 * before && after > 0.5,
                "fewer internal events should back up the slowest machine: mean queue " + before + " at p=0.6, " + after + " at p=0.25\n"
                        + many.markdownTable() + "\n" + few.markdownTable());
        assertTrue(few.slowest().maxQueue() > many.slowest().maxQueue(), "max queue should grow too\n" + many.markdownTable() + "\n" + few.markdownTable());
    }
}
