package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The errors users will hit, checked against the real kernel. */
class ProbeErrorsTest {
    static BpfProbe probe;
    static final Path PINS = ProbeConfig.DEFAULT_PIN_ROOT.resolve("htq-errors-" + ProcessHandle.current().pid());

    @BeforeAll
    static void load() {
        String why = BpfProbe.cannotRunReason();
        assumeTrue(why == null, "kernel probe tests skipped: " + why);
        probe = new BpfProbe(PINS, 64 * 1024);
    }

    @AfterAll
    static void unload() throws Exception {
        if (probe != null) probe.close();
        Files.deleteIfExists(PINS.resolve("clock"));
        Files.deleteIfExists(PINS);
    }

    @Test
    void cgroupV1DirectoryIsRefusedWithTheReason() {
        Path v1 = Path.of("/sys/fs/cgroup/memory");
        assumeTrue(Files.isDirectory(v1) && "cgroup".equals(Kernel.fsTypeAt(v1)), "no cgroup v1 hierarchy on this machine");
        ProbeException e = assertThrows(ProbeException.class, () -> probe.attachCgroup(v1));
        assertTrue(e.getMessage().contains("not a cgroup v2 directory"), e.getMessage());
        assertTrue(e.remedy().contains(ProbeConfig.CGROUP2_ROOT.toString()), e.remedy());
    }

    @Test
    void missingCgroupAndMissingProcess() {
        ProbeException e = assertThrows(ProbeException.class, () -> probe.attachCgroup(ProbeConfig.CGROUP2_ROOT.resolve("htq-does-not-exist")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(ProbeException.class, () -> Kernel.cgroupOfPid(Integer.MAX_VALUE));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void pidTargetResolvesToItsCgroupV2Directory() {
        Path cg = Kernel.cgroupOfPid((int) ProcessHandle.current().pid());
        assertTrue(cg.startsWith(ProbeConfig.CGROUP2_ROOT) && Files.isDirectory(cg), cg.toString());
        assertTrue("cgroup2".equals(Kernel.fsTypeAt(cg)), cg + " is on cgroup2");
    }

    @Test
    void clockMapIsPinnedMmapableAndSharedThroughTheSocket() throws Exception {
        Path sockDir = Files.createTempDirectory("htq-sock");
        Path sock = sockDir.resolve("clock.sock");
        try (ClockSocketServer server = new ClockSocketServer(sock, probe.clockFd())) {
            int fd = ClockSocketServer.receiveFd(sock);
            try {
                var map = LibC.INSTANCE.mmap(null, 4096, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
                var theirs = new io.hlctrace.hlc.ExecutorClockState(map.getByteBuffer(0, 64), 0);
                long before = probe.clockState().get(io.hlctrace.hlc.ExecutorClockState.HLC);
                assertTrue(theirs.hlcCell().compareAndSet(before, before + 5), "CAS through the received fd");
                assertTrue(probe.clockState().get(io.hlctrace.hlc.ExecutorClockState.HLC) == before + 5, "the daemon's mapping sees it");
                LibC.INSTANCE.munmap(map, 4096);
            } finally {
                LibC.INSTANCE.close(fd);
            }
            assertTrue(Files.exists(PINS.resolve("clock")));
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(sockDir);
        }
    }
}
