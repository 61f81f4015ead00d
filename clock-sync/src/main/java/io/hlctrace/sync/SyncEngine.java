package io.hlctrace.sync;

import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.PhysicalClock;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The protocol's logic without the network: it keeps the best Cristian sample per peer for the
 * current monitor interval, builds the offset intervals, runs {@link Marzullo}, and at the end of
 * each monitor interval decides health, corrects the executor clock and publishes a
 * {@link SyncStatus}. {@link ClockSyncService} feeds it from UDP; tests drive it directly with a
 * {@link io.hlctrace.hlc.ManualPhysicalClock}. Thread-safe (one lock; every call is short).
 *
 * <p>Offsets are "peer clock minus this executor's clock". Source intervals are
 * {@code [offset - error - maxOffset, offset + error + maxOffset]}, the executor itself being the
 * source (0, 0). Within a monitor interval a newly computed agreed interval replaces the current
 * one only when it is healthier: agreed by more sources, or by as many and narrower (the hull of
 * the agreeing sources' [offset - error, offset + error] is narrower).
 */
public final class SyncEngine {
    private static final System.Logger LOG = System.getLogger("io.hlctrace.sync");
    /** While unhealthy, repeat the complaint this often so it is not lost in a long log. */
    private static final long MIN_CORRECTION_NS = 1_000;
    private static final long REMIND_EVERY_NS = Duration.ofSeconds(10).toNanos();

    /** A health transition, for listeners (the probe shows it, tests wait for it). */
    public record HealthChange(SyncStatus.Health from, SyncStatus.Health to, String reason, long atExecutorNs) {}

    private final SyncConfig config;
    private final ExecutorClockState state;
    private final PhysicalClock base;
    private final PhysicalClock executorClock;
    private final long maxOffsetNs;
    private final long monitorNs;
    private final long startedAt;
    private final Map<String, PeerState> peers = new LinkedHashMap<>();
    private final List<Consumer<HealthChange>> listeners = new CopyOnWriteArrayList<>();

    private volatile long generation;
    private Candidate current;
    private SyncStatus.Health health = SyncStatus.Health.STARTING;
    private String reason = "starting: no monitor interval has ended yet";
    private long lastRemindAt;
    private long unhealthyTransitions;
    private long corrections;
    private long lastCorrectionNs;
    private SyncStatus.Agreed lastAgreed;
    private volatile SyncStatus lastStatus;
    private SyncStatus.Traffic traffic = SyncStatus.Traffic.NONE;
    private long authFailuresAtLastMonitor;

    private static final class PeerState {
        final SyncConfig.Peer peer;
        CristianSample best;          // best sample of the current monitor interval
        CristianSample reported;      // best sample of the last decided interval, for the status
        boolean reportedInMajority;
        long lastContactNs;           // executor clock at the last valid answer
        long samples;
        boolean peerUnhealthy;

        PeerState(SyncConfig.Peer peer) { this.peer = peer; }
    }

    /**
     * An agreed interval and the raw (offset, error) of each source that went into it. Its spread is
     * the width of the hull of its members' raw intervals [offset - error, offset + error] (this
     * executor being [0, 0]): how far apart the agreeing clocks may be.
     */
    private record Candidate(Marzullo.Result result, Map<String, long[]> raw, long spread) {
        static Candidate of(Marzullo.Result result, Map<String, long[]> raw) {
            long lo = Long.MAX_VALUE;
            long hi = Long.MIN_VALUE;
            for (String m : result.members()) {
                long[] oe = raw.get(m);
                lo = Math.min(lo, oe[0] - oe[1]);
                hi = Math.max(hi, oe[0] + oe[1]);
            }
            return new Candidate(result, raw, hi - lo);
        }

        /** Healthier: agreed by more sources, or by as many with a narrower spread. */
        boolean healthierThan(Candidate other) {
            if (result.agreeing() != other.result.agreeing()) return result.agreeing() > other.result.agreeing();
            return spread < other.spread;
        }
    }

    public SyncEngine(SyncConfig config, ExecutorClockState state, PhysicalClock base) {
        this.config = config;
        this.state = state;
        this.base = base;
        this.executorClock = state.physicalClock(base);
        this.maxOffsetNs = config.maxOffset().toNanos();
        this.monitorNs = config.monitorInterval().toNanos();
        for (SyncConfig.Peer p : config.peers()) peers.put(p.id(), new PeerState(p));
        this.startedAt = base.nanos();
        this.lastStatus = snapshot();
    }

    public SyncConfig config() { return config; }

    /** This executor's corrected clock: what every stamper on it reads. */
    public PhysicalClock executorClock() { return executorClock; }

    /** Bumped on every correction of the executor clock; samples across a bump are not comparable. */
    public long generation() { return generation; }

    public void addHealthListener(Consumer<HealthChange> l) { listeners.add(l); }

    /** Why a sample was not used. */
    public enum SampleOutcome { KEPT, NOT_BETTER, UNKNOWN_PEER, IMPLAUSIBLE, STALE_GENERATION }

    /**
     * Offers one exchange with a peer. {@code selfGeneration} is {@link #generation()} when the
     * request was sent: an answer to a request sent before a correction measured the old clock.
     */
    public synchronized SampleOutcome offer(String peerId, long t1, long t2, long t3, long t4, long peerGeneration,
                                            long selfGeneration, boolean peerUnhealthy) {
        PeerState ps = peers.get(peerId);
        if (ps == null) return SampleOutcome.UNKNOWN_PEER;
        if (selfGeneration != generation) return SampleOutcome.STALE_GENERATION;
        CristianSample s = new CristianSample(peerId, t1, t2, t3, t4, peerGeneration, base.nanos());
        if (!s.plausible()) return SampleOutcome.IMPLAUSIBLE;
        ps.samples++;
        ps.lastContactNs = t4;
        ps.peerUnhealthy = peerUnhealthy;
        CristianSample best = ps.best;
        // a peer that corrected its clock makes its older samples wrong: the newer generation wins
        if (best == null || best.peerGeneration() != peerGeneration
                || s.error() <= best.errorAfter(s.takenAt() - best.takenAt(), config.maxDriftPpm())) {
            ps.best = s;
            return SampleOutcome.KEPT;
        }
        return SampleOutcome.NOT_BETTER;
    }

    /** Between monitor decisions: recompute the agreed interval and keep it if healthier. */
    public synchronized void heartbeat() {
        Candidate c = evaluate();
        if (current == null || c.healthierThan(current)) current = c;
    }

    private Candidate evaluate() {
        long now = base.nanos();
        List<Marzullo.Interval> intervals = new ArrayList<>();
        Map<String, long[]> raw = new LinkedHashMap<>();
        intervals.add(new Marzullo.Interval(config.executorId(), -maxOffsetNs, maxOffsetNs));
        raw.put(config.executorId(), new long[] {0, 0});
        for (PeerState ps : peers.values()) {
            CristianSample s = ps.best;
            if (s == null) continue;
            long age = now - s.takenAt();
            if (age > monitorNs) { // stale: older than a monitor interval
                ps.best = null;
                continue;
            }
            long err = s.errorAfter(age, config.maxDriftPpm());
            long off = s.offset();
            intervals.add(new Marzullo.Interval(ps.peer.id(), off - err - maxOffsetNs, off + err + maxOffsetNs));
            raw.put(ps.peer.id(), new long[] {off, err});
        }
        Marzullo.Result r = Marzullo.intersect(intervals);
        // every configured source counts in the total: a silent peer is a vote not cast
        r = new Marzullo.Result(r.lo(), r.hi(), r.agreeing(), config.sources(), r.members(), r.ties());
        return Candidate.of(r, raw);
    }

    /**
     * Ends a monitor interval: decides health from the healthiest agreed interval of the interval,
     * corrects the executor clock when configured, writes flags and error into the clock record,
     * and starts a new interval. Returns the new status.
     */
    public synchronized SyncStatus monitor() {
        heartbeat();
        Candidate c = current;
        long nowExec = executorClock.nanos();
        SyncStatus.Health newHealth;
        String why;
        Marzullo.Result r = c.result();
        Map<String, CristianSample> windowBest = new LinkedHashMap<>();
        for (PeerState ps : peers.values()) windowBest.put(ps.peer.id(), ps.best);
        int answered = c.raw().size() - 1;
        if (!r.majority()) {
            newHealth = SyncStatus.Health.UNHEALTHY;
            if (answered + 1 < config.majority()) {
                why = "no offset can be computed: only " + answered + " of " + config.peers().size() + " peers answered in the last "
                        + fmt(monitorNs) + " (a majority needs " + (config.majority() - 1) + " of them besides this executor); "
                        + "check the network between the executors and that their sync daemons run";
                long authFailed = traffic.authFailures() - authFailuresAtLastMonitor;
                if (authFailed > 0) {
                    why += "; " + authFailed + " packets failed authentication in this interval: is the hmac-key the same on every executor?";
                }
            } else {
                why = "no offset can be computed: the " + (answered + 1) + " sources disagree, at most " + r.agreeing() + " of "
                        + r.total() + " overlap (a majority needs " + config.majority() + "); some clock is off by more than "
                        + fmt(maxOffsetNs) + " (max offset)";
            }
            lastAgreed = null;
            if (answered + 1 < config.majority() && health == SyncStatus.Health.STARTING && base.nanos() - startedAt < config.startupGrace().toNanos()) {
                // peers started a moment later are not a failure yet; a clock found off is (below)
                newHealth = SyncStatus.Health.STARTING;
                why = "starting: waiting for peers (" + why + ")";
            }
        } else {
            lastAgreed = new SyncStatus.Agreed(r.lo(), r.hi(), r.agreeing(), r.total(), r.members());
            boolean within = r.lo() <= maxOffsetNs && r.hi() >= -maxOffsetNs;
            long delta = agreedOffset(r, c.raw(), config.executorId());
            if (within) {
                newHealth = SyncStatus.Health.HEALTHY;
                why = "healthy: " + r.agreeing() + " of " + r.total() + " sources agree, offset " + fmt(delta);
            } else {
                newHealth = SyncStatus.Health.UNHEALTHY;
                why = "clock is outside the max offset " + fmt(maxOffsetNs) + " from a majority (" + String.join(", ", r.members())
                        + "): they agree this executor is off by " + fmt(delta)
                        + (config.correct() ? "; correcting the clock by that amount" : "; correction is off: fix this host's clock (NTP) or set correct: true");
            }
            // below a microsecond a correction only churns generations (and samples) for nothing
            long applied = config.correct() && Math.abs(delta) >= MIN_CORRECTION_NS ? delta : 0;
            long err = 0;
            for (String m : r.members()) {
                if (m.equals(config.executorId())) continue;
                long[] oe = c.raw().get(m);
                err = Math.max(err, Math.abs(oe[0] - applied) + oe[1]);
            }
            if (applied != 0) {
                state.set(ExecutorClockState.OFFSET_NS, state.get(ExecutorClockState.OFFSET_NS) + applied);
                generation++;
                corrections++;
                lastCorrectionNs = applied;
            }
            state.set(ExecutorClockState.SYNC_ERROR_NS, err);
        }
        Set<String> members = Set.copyOf(r.members());
        for (PeerState ps : peers.values()) {
            ps.reported = windowBest.get(ps.peer.id());
            ps.reportedInMajority = r.majority() && members.contains(ps.peer.id());
            ps.best = null; // a new monitor interval starts with no samples
        }
        current = null;
        authFailuresAtLastMonitor = traffic.authFailures();
        transition(newHealth, why, nowExec);
        lastStatus = snapshot();
        return lastStatus;
    }

    /**
     * The point of the agreed interval to correct to: the mean offset of the sources in the
     * majority weighted by 1/error^2 (as NTP's combine step weights by distance), this executor
     * counting as offset 0 with the smallest error among them when it is one of them; kept inside
     * the Marzullo interval. A mean, rather than the interval's midpoint, lets executors whose
     * intervals all overlap still converge on each other; the executor's own weight keeps
     * executors that correct at the same time from overshooting; the weights keep one exchange
     * delayed by a busy scheduler from dragging the clock.
     */
    static long agreedOffset(Marzullo.Result r, Map<String, long[]> raw, String self) {
        long minErr = Long.MAX_VALUE;
        for (String m : r.members()) {
            long[] oe = raw.get(m);
            if (oe != null && !m.equals(self)) minErr = Math.min(minErr, oe[1]);
        }
        double sum = 0;
        double weights = 0;
        for (String m : r.members()) {
            long[] oe = raw.get(m);
            if (oe == null) continue;
            double e = Math.max(1_000.0, m.equals(self) ? (minErr == Long.MAX_VALUE ? 1_000.0 : minErr) : oe[1]);
            double w = 1.0 / (e * e);
            sum += w * oe[0];
            weights += w;
        }
        long mean = weights == 0 ? r.midpoint() : Math.round(sum / weights);
        return Math.max(r.lo(), Math.min(r.hi(), mean));
    }

    private void transition(SyncStatus.Health to, String why, long nowExec) {
        SyncStatus.Health from = health;
        if (from == to && to == SyncStatus.Health.STARTING) {
            reason = why;
            return;
        }
        health = to;
        reason = why;
        if (to == SyncStatus.Health.UNHEALTHY) {
            state.set(ExecutorClockState.FLAGS, state.get(ExecutorClockState.FLAGS) | ExecutorClockState.FLAG_UNHEALTHY);
            if (from != to) {
                unhealthyTransitions++;
                lastRemindAt = nowExec;
                LOG.log(Level.ERROR, "executor " + config.executorId() + " clock sync FAILED, failing stop (stampers "
                        + (config.failMode() == SyncConfig.FailMode.REFUSE ? "refuse to stamp" : "mark events unhealthy")
                        + " until it recovers): " + why);
            } else if (nowExec - lastRemindAt >= REMIND_EVERY_NS) {
                lastRemindAt = nowExec;
                LOG.log(Level.ERROR, "executor " + config.executorId() + " clock sync still failed: " + why);
            }
        } else if (to == SyncStatus.Health.HEALTHY) {
            state.set(ExecutorClockState.FLAGS, state.get(ExecutorClockState.FLAGS) & ~ExecutorClockState.FLAG_UNHEALTHY);
            if (from == SyncStatus.Health.UNHEALTHY) {
                LOG.log(Level.WARNING, "executor " + config.executorId() + " clock sync recovered: " + why);
            } else if (from == SyncStatus.Health.STARTING) {
                LOG.log(Level.INFO, "executor " + config.executorId() + " clock sync: " + why);
            }
        }
        if (from != to) {
            HealthChange change = new HealthChange(from, to, why, nowExec);
            for (Consumer<HealthChange> l : listeners) {
                try {
                    l.accept(change);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "a clock-sync health listener failed", e);
                }
            }
        }
    }

    /** Traffic counters from the network side, included in the next status. */
    public synchronized void traffic(SyncStatus.Traffic t) { this.traffic = t; }

    public SyncStatus status() { return lastStatus; }

    public synchronized SyncStatus.Health health() { return health; }

    private SyncStatus snapshot() {
        List<SyncStatus.PeerStatus> ps = new ArrayList<>();
        for (PeerState p : peers.values()) {
            CristianSample s = p.reported;
            ps.add(new SyncStatus.PeerStatus(p.peer.id(), p.peer.hostPort(), s != null, s == null ? 0 : s.offset(),
                    s == null ? 0 : s.error(), s == null ? 0 : s.roundTrip(), p.lastContactNs, p.samples,
                    p.reportedInMajority, p.peerUnhealthy));
        }
        return new SyncStatus(config.executorId(), executorClock.nanos(), health, reason, config.correct(),
                config.failMode().yamlName(), state.get(ExecutorClockState.OFFSET_NS), state.get(ExecutorClockState.SYNC_ERROR_NS),
                lastCorrectionNs, corrections, maxOffsetNs, config.heartbeat().toNanos(), monitorNs, unhealthyTransitions,
                lastAgreed, List.copyOf(ps), traffic);
    }

    /** A duration for people: 7200.000123s, 1.250ms, 85us. */
    static String fmt(long nanos) {
        long a = Math.abs(nanos);
        String sign = nanos < 0 ? "-" : "";
        if (a >= 1_000_000_000L) return sign + String.format(java.util.Locale.ROOT, "%.6fs", a / 1e9);
        if (a >= 1_000_000L) return sign + String.format(java.util.Locale.ROOT, "%.3fms", a / 1e6);
        if (a >= 1_000L) return sign + String.format(java.util.Locale.ROOT, "%.1fus", a / 1e3);
        return sign + a + "ns";
    }
}
