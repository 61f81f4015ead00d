package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.hlctrace.sync.SyncConfig.FailMode;

class ProbeConfigTest {
    static ProbeConfig parse(String yaml) {
        return ProbeConfig.parse(new StringReader(yaml), "probe.yml");
    }

    @Test
    void fullConfiguration() {
        ProbeConfig c = parse("""
                executor: web-1
                event_log: /tmp/web-1.jsonl
                max_offset: 250ms
                ring_buffer_kib: 2048
                skew:
                  offset: -2h
                  drift_ppm: 50
                targets:
                  cgroups: [/sys/fs/cgroup/unified/web, system.slice/api.service]
                  pids: [42]
                  docker:
                    socket: /run/docker.sock
                    names: [db]
                    labels: ["hlctrace.executor=web-1"]
                sync:
                  peers: [10.0.0.2]
                """);
        assertEquals("web-1", c.executor());
        assertEquals(Path.of("/sys/fs/bpf/hlctrace/web-1"), c.pinDir());
        assertEquals(Duration.ofMillis(250), c.maxOffset());
        assertEquals(2048, c.ringBufferKib());
        assertEquals(Duration.ofHours(-2).toNanos(), c.skewOffsetNanos());
        assertEquals(50.0, c.skewDriftPpm());
        assertEquals(List.of(Path.of("/sys/fs/cgroup/unified/web"), Path.of("/sys/fs/cgroup/unified/system.slice/api.service")), c.cgroups());
        assertEquals(List.of(42), c.pids());
        assertEquals(List.of("db"), c.docker().names());
        assertEquals(Path.of("/run/hlctrace/web-1/clock.sock"), c.clockSocket());
        assertEquals(List.of("10.0.0.2"), c.sync().get("peers"));
    }

    @Test
    void clockSocketOffAndDefaults() {
        ProbeConfig c = parse("executor: a\nclock_socket: off\ntargets: {cgroups: [x]}\n");
        assertNull(c.clockSocket());
        assertEquals(ProbeConfig.DEFAULT_MAX_OFFSET, c.maxOffset());
        assertNull(c.sync());
    }

    @Test
    void errorsNameFileLineAndKey() {
        ProbeException e = assertThrows(ProbeException.class, () -> parse("executor: a\ntargets:\n  cgroups: [x]\nskew:\n  offset: 2 hours\n"));
        assertTrue(e.getMessage().startsWith("probe.yml:5:"), e.getMessage());
        assertTrue(e.getMessage().contains("skew.offset"), e.getMessage());

        e = assertThrows(ProbeException.class, () -> parse("executor: a\ntargets:\n  cgroup: [x]\n"));
        assertTrue(e.getMessage().contains("probe.yml:3:3") && e.getMessage().contains("unknown key 'targets.cgroup'"), e.getMessage());

        e = assertThrows(ProbeException.class, () -> parse("targets:\n  cgroups: [x]\n"));
        assertTrue(e.getMessage().contains("'executor' is missing"), e.getMessage());

        e = assertThrows(ProbeException.class, () -> parse("executor: a\n"));
        assertTrue(e.getMessage().contains("no targets"), e.getMessage());

        e = assertThrows(ProbeException.class, () -> parse("executor: a/b\ntargets: {pids: [1]}\n"));
        assertTrue(e.getMessage().contains("names a directory"), e.getMessage());

        e = assertThrows(ProbeException.class, () -> parse("executor: a\nring_buffer_kib: 1000\ntargets: {pids: [1]}\n"));
        assertTrue(e.getMessage().contains("power of two"), e.getMessage());

        e = assertThrows(ProbeException.class, () -> parse("executor: [a\n"));
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
    }

    @Test
    void optionOnlyTargetsAndFailMode() {
        ProbeConfig c = parse("""
                executor: a
                fail_mode: refuse
                targets:
                  option_only_cgroups: [jvms.slice, /sys/fs/cgroup/unified/gateway]
                  option_only_pids: [4711]
                """);
        assertEquals(List.of(Path.of("/sys/fs/cgroup/unified/jvms.slice"), Path.of("/sys/fs/cgroup/unified/gateway")), c.optionOnlyCgroups());
        assertEquals(List.of(4711), c.optionOnlyPids());
        assertEquals(List.of(), c.cgroups());
        assertEquals(FailMode.REFUSE, c.failMode());

        assertEquals(FailMode.MARK_UNHEALTHY, parse("executor: a\ntargets: {pids: [1]}\n").failMode());
        assertEquals(FailMode.REFUSE, parse("executor: a\ntargets: {pids: [1]}\nsync:\n  fail-mode: refuse\n").failMode(),
                "the sync section's fail-mode applies to the probe too");
        assertEquals(FailMode.REFUSE, parse("executor: a\nfail_mode: refuse\ntargets: {pids: [1]}\nsync:\n  failMode: refuse\n").failMode());
        assertEquals("refuse", ProbeDaemon.syncConfig(parse("executor: a\nfail_mode: refuse\ntargets: {pids: [1]}\nsync:\n  bind: 127.0.0.1:0\n"))
                .failMode().yamlName(), "clock-sync is told the probe's fail_mode");

        ProbeException e = assertThrows(ProbeException.class, () -> parse("executor: a\nfail_mode: mark-unhealthy\ntargets: {pids: [1]}\nsync:\n  fail-mode: refuse\n"));
        assertTrue(e.getMessage().contains("probe.yml:2:") && e.getMessage().contains("contradicts"), e.getMessage());
        e = assertThrows(ProbeException.class, () -> parse("executor: a\nfail_mode: stop\ntargets: {pids: [1]}\n"));
        assertTrue(e.getMessage().contains("probe.yml:2:") && e.getMessage().contains("neither mark-unhealthy nor refuse"), e.getMessage());
        e = assertThrows(ProbeException.class, () -> parse("executor: a\ntargets:\n  cgroups: [x]\n  option_only_cgroups: [x]\n"));
        assertTrue(e.getMessage().contains("both"), e.getMessage());
        e = assertThrows(ProbeException.class, () -> parse("executor: a\ntargets:\n  option_only_pids: [java]\n"));
        assertTrue(e.getMessage().contains("targets.option_only_pids"), e.getMessage());
    }

    @Test
    void durations() {
        assertEquals(Duration.ofMillis(1500), ProbeConfig.parseDuration("1.5s"));
        assertEquals(Duration.ofHours(-2), ProbeConfig.parseDuration("-2h"));
        assertEquals(Duration.ofNanos(10), ProbeConfig.parseDuration("10ns"));
        assertThrows(IllegalArgumentException.class, () -> ProbeConfig.parseDuration("120"));
    }
}
