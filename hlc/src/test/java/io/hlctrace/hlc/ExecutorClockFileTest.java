package io.hlctrace.hlc;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutorClockFileTest {

    @Test
    void reopenedClockNeverGoesBelowWhatItHandedOut(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("exec/clock");
        ManualPhysicalClock pt = new ManualPhysicalClock(Duration.ofDays(20_000).toNanos());
        long last;
        try (ExecutorClockFile f = ExecutorClockFile.openOrCreate(p)) {
            HybridLogicalClock c = new HybridLogicalClock(f.cell(), pt, Duration.ofSeconds(1));
            c.now();
            last = c.now();
        }
        pt.advance(-Duration.ofHours(1).toNanos()); // the host clock stepped back while we were down
        try (ExecutorClockFile f = ExecutorClockFile.openOrCreate(p)) {
            HybridLogicalClock c = new HybridLogicalClock(f.cell(), pt, Duration.ofSeconds(1));
            assertTrue(HlcTimestamp.compare(c.now(), last) > 0);
        }
    }

    @Test
    void createdOwnerOnlyWithHeader(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("clock");
        try (ExecutorClockFile f = ExecutorClockFile.openOrCreate(p)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
            assertEquals(ExecutorClockFile.FILE_SIZE, Files.size(p));
            assertEquals("HLCCLOCK", new String(Files.readAllBytes(p), 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
            f.state().setSkew(-Duration.ofHours(2).toNanos(), 0, 0);
            ManualPhysicalClock real = new ManualPhysicalClock(Duration.ofDays(20_000).toNanos());
            assertEquals(real.nanos() - Duration.ofHours(2).toNanos(), f.state().physicalClock(real).nanos());
        }
        try (ExecutorClockFile f = ExecutorClockFile.open(p)) {
            assertEquals(-Duration.ofHours(2).toNanos(), f.state().get(ExecutorClockState.OFFSET_NS), "the skew is shared through the file");
        }
    }

    @Test
    void foreignOrCorruptFilesAreRefusedSayingWhy(@TempDir Path dir) throws Exception {
        Path foreign = dir.resolve("foreign");
        Files.write(foreign, new byte[256]);
        var e = assertThrows(ExecutorClockFile.CorruptClockFileException.class, () -> ExecutorClockFile.open(foreign));
        assertTrue(e.getMessage().contains("magic") && e.getMessage().contains(foreign.toString()), e.getMessage());

        Path truncated = dir.resolve("truncated");
        Files.write(truncated, "HLCCLOCK".getBytes());
        e = assertThrows(ExecutorClockFile.CorruptClockFileException.class, () -> ExecutorClockFile.open(truncated));
        assertTrue(e.getMessage().contains("8 bytes"), e.getMessage());

        Path future = dir.resolve("future");
        try (ExecutorClockFile f = ExecutorClockFile.openOrCreate(future)) { /* create */ }
        byte[] bytes = Files.readAllBytes(future);
        bytes[8] = 9;
        Files.write(future, bytes);
        e = assertThrows(ExecutorClockFile.CorruptClockFileException.class, () -> ExecutorClockFile.open(future));
        assertTrue(e.getMessage().contains("version is 9"), e.getMessage());
    }
}
