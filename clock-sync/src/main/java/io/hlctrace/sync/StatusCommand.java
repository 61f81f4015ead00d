package io.hlctrace.sync;

import io.hlctrace.hlc.ExecutorClockFile;
import io.hlctrace.hlc.ExecutorClockState;
import io.hlctrace.hlc.SystemPhysicalClock;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;

/**
 * {@code hlctrace probe status} / {@code hlctrace sync status}: reads the status file a sync daemon
 * writes each monitor interval and prints, per peer, offset, error, round trip and last contact; the
 * executor's corrected offset and health; and {@code now} as a TrueTime interval [earliest, latest].
 * Exit status: 0 healthy, 1 unhealthy or starting, 2 no usable status.
 */
public final class StatusCommand {
    /** Where {@link SyncMain} writes the status when not told otherwise. */
    public static final Path DEFAULT_STATUS = Path.of("/dev/shm/hlctrace/sync-status.json");

    private StatusCommand() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        Path status = DEFAULT_STATUS;
        Path clock = null;
        boolean json = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--status" -> status = Path.of(need(args, ++i, "--status"));
                    case "--clock" -> clock = Path.of(need(args, ++i, "--clock"));
                    case "--json" -> json = true;
                    case "-h", "--help" -> {
                        out.println("usage: status [--status FILE] [--clock CLOCK_FILE] [--json]\n"
                                + "  --status  the daemon's status file (default " + DEFAULT_STATUS + ")\n"
                                + "  --clock   the executor clock file, to read the live offset, flag and error for `now`\n"
                                + "  --json    print the status file as it is");
                        return 0;
                    }
                    default -> {
                        err.println("status: unknown argument \"" + args[i] + "\" (try --help)");
                        return 2;
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            err.println("status: " + e.getMessage());
            return 2;
        }
        SyncStatus s;
        String text;
        try {
            text = Files.readString(status, StandardCharsets.UTF_8);
            s = SyncStatus.fromJson(text);
        } catch (NoSuchFileException e) {
            err.println("status: no clock-sync status at " + status + ": is the sync daemon (probe or `hlctrace sync`) running, and"
                    + " is that its status-file? It writes the file once per monitor interval.");
            return 2;
        } catch (IOException | IllegalArgumentException e) {
            err.println("status: cannot read " + status + ": " + e.getMessage());
            return 2;
        }
        if (json) {
            out.print(text);
            return s.healthy() ? 0 : 1;
        }
        long now;
        long error = s.syncErrorNs();
        boolean unhealthy = s.health() == SyncStatus.Health.UNHEALTHY;
        if (clock != null) {
            try (ExecutorClockFile f = ExecutorClockFile.open(clock)) {
                ExecutorClockState st = f.state();
                now = st.physicalClock(SystemPhysicalClock.INSTANCE).nanos();
                error = st.get(ExecutorClockState.SYNC_ERROR_NS);
                unhealthy = st.unhealthy();
            } catch (IOException e) {
                err.println("status: cannot open the clock file: " + e.getMessage());
                return 2;
            }
        } else {
            // without the clock record: the offset as of the status file (drift since then ignored)
            now = SystemPhysicalClock.INSTANCE.nanos() + s.offsetNs();
        }
        out.print(render(s, now, error, unhealthy));
        return s.healthy() && !unhealthy ? 0 : 1;
    }

    /** The human-readable report; {@code now} is a reading of the executor's corrected clock. */
    public static String render(SyncStatus s, long now, long syncErrorNs, boolean flagUnhealthy) {
        StringBuilder sb = new StringBuilder();
        sb.append("executor ").append(s.executor()).append(": ").append(s.health().name())
                .append(flagUnhealthy && s.healthy() ? " (but the clock record's unhealthy flag is set)" : "").append('\n');
        sb.append("  ").append(s.reason()).append('\n');
        long age = now - s.writtenAtNs();
        if (age > 3 * s.monitorNs()) {
            sb.append("  WARNING: this status is ").append(SyncEngine.fmt(age)).append(" old (monitor interval ")
                    .append(SyncEngine.fmt(s.monitorNs())).append("): the sync daemon may have stopped\n");
        }
        sb.append("  now: [").append(instant(now - syncErrorNs)).append(", ").append(instant(now + syncErrorNs))
                .append("]  (TrueTime interval: executor clock +- ").append(SyncEngine.fmt(syncErrorNs)).append(")")
                .append(flagUnhealthy ? "  UNRELIABLE: fail-stop in effect (" + s.failMode() + ")" : "").append('\n');
        sb.append("  executor offset_ns: ").append(s.offsetNs()).append(" (").append(SyncEngine.fmt(s.offsetNs()))
                .append(" added to the host clock)").append(", correction ").append(s.correct() ? "on" : "off")
                .append(", corrections ").append(s.corrections());
        if (s.corrections() > 0) sb.append(" (last ").append(sign(s.lastCorrectionNs())).append(')');
        sb.append(", max offset ").append(SyncEngine.fmt(s.maxOffsetNs())).append(", fail mode ").append(s.failMode()).append('\n');
        if (s.agreed() != null) {
            SyncStatus.Agreed a = s.agreed();
            sb.append("  agreed interval (source intervals widened by the max offset): [").append(sign(a.loNs())).append(", ").append(sign(a.hiNs())).append("] by ")
                    .append(a.sources()).append(" of ").append(a.of()).append(" sources (").append(String.join(", ", a.members())).append(")\n");
        }
        sb.append(String.format(Locale.ROOT, "  %-12s %-24s %14s %12s %12s %14s %9s%n", "peer", "address", "offset", "error", "round trip",
                "last contact", "majority"));
        for (SyncStatus.PeerStatus p : s.peers()) {
            String contact = p.lastContactNs() == 0 ? "never" : SyncEngine.fmt(now - p.lastContactNs()) + " ago";
            sb.append(String.format(Locale.ROOT, "  %-12s %-24s %14s %12s %12s %14s %9s%n", p.id(), p.address(),
                    p.sampled() ? sign(p.offsetNs()) : "-", p.sampled() ? SyncEngine.fmt(p.errorNs()) : "-",
                    p.sampled() ? SyncEngine.fmt(p.roundTripNs()) : "-", contact,
                    (p.inMajority() ? "yes" : "no") + (p.peerUnhealthy() ? "!" : "")));
        }
        SyncStatus.Traffic t = s.traffic();
        sb.append(String.format(Locale.ROOT, "  traffic: sent %.1f packets/s (%.0f B/s), received %.1f packets/s (%.0f B/s); dropped: "
                        + "%d failed authentication, %d malformed, %d from unknown senders, %d unmatched answers%n",
                t.sentPacketsPerSecond(), t.sentBytesPerSecond(), t.receivedPacketsPerSecond(), t.receivedBytesPerSecond(),
                t.authFailures(), t.malformed(), t.unknownSender(), t.unmatched()));
        return sb.toString();
    }

    private static String sign(long ns) { return (ns >= 0 ? "+" : "") + SyncEngine.fmt(ns); }

    private static String instant(long ns) {
        return Instant.ofEpochSecond(Math.floorDiv(ns, 1_000_000_000L), Math.floorMod(ns, 1_000_000_000L)).toString();
    }

    private static String need(String[] args, int i, String opt) {
        if (i >= args.length) throw new IllegalArgumentException(opt + " needs a value");
        return args[i];
    }
}
