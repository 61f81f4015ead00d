package io.hlctrace.demo.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/docker-engine.sh's parts that need no engine: the Debian mirror it gives debootstrap comes
 * from the apt sources (deb822 and one-line formats, disabled entries and other releases skipped),
 * and without root it refuses with exit code 77, which the container tests skip on.
 */
class DockerEngineScriptTest {
    static final Path SCRIPT = DockerEngine.projectRoot().resolve("scripts/docker-engine.sh");

    record Result(int exit, String output) {}

    static Result run(Map<String, String> env, List<String> prefix, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(SCRIPT.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) throw new IOException("timed out: " + cmd);
            return new Result(p.exitValue(), out);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void theMirrorComesFromTheDeb822SourcesSkippingDisabledEntriesAndOtherReleases(@TempDir Path etc) throws Exception {
        Files.createDirectories(etc.resolve("sources.list.d"));
        Files.writeString(etc.resolve("sources.list.d/a-disabled.sources"), """
                Types: deb
                URIs: http://disabled.example/debian
                Suites: bookworm
                Components: main
                Enabled: no
                """);
        Files.writeString(etc.resolve("sources.list.d/debian.sources"), """
                Types: deb-src
                URIs: http://sources-only.example/debian
                Suites: bookworm
                Components: main

                # a comment: http://commented.example/debian
                Types: deb
                URIs: http://mirror.example/debian http://second.example/debian
                Suites: bookworm bookworm-updates
                Components: main contrib

                Types: deb
                URIs: http://trixie.example/debian
                Suites: trixie
                Components: main
                """);
        Map<String, String> env = Map.of("HTK_APT_ETC", etc.toString());
        Result bookworm = run(env, List.of(), "mirror", "bookworm");
        assertEquals(new Result(0, "http://mirror.example/debian\n"), bookworm);
        assertEquals("http://trixie.example/debian\n", run(env, List.of(), "mirror", "trixie").output());
        Result none = run(env, List.of(), "mirror", "bullseye");
        assertEquals(1, none.exit(), "no source for the release: " + none.output());
        assertTrue(none.output().contains("no enabled 'deb' source for 'bullseye'"), none.output());
    }

    @Test
    void theMirrorComesFromOneLineSourcesWhenThereIsNoDeb822Entry(@TempDir Path etc) throws Exception {
        Files.createDirectories(etc.resolve("sources.list.d"));
        Files.writeString(etc.resolve("sources.list"), """
                # deb http://commented.example/debian bookworm main
                deb-src http://src.example/debian bookworm main
                deb http://security.example/debian-security bookworm-security main
                deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://oneline.example/debian bookworm contrib main
                """);
        assertEquals(new Result(0, "http://oneline.example/debian\n"), run(Map.of("HTK_APT_ETC", etc.toString()), List.of(), "mirror", "bookworm"));
    }

    @Test
    void withoutRootStartRefusesWithTheSkipExitCode() throws Exception {
        boolean root = "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).strip());
        // as root, run it as nobody (setpriv, util-linux); otherwise as ourselves
        List<String> prefix = root ? List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups") : List.of();
        if (root) assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) is needed to run the script as nobody");
        for (String cmd : List.of("start", "stop", "images")) {
            Result r = run(Map.of(), prefix, cmd);
            assertEquals(DockerEngine.EXIT_NOT_ROOT, r.exit(), cmd + " without root: " + r.output());
            assertTrue(r.output().contains("needs root") && r.output().contains("sudo"), "says why and what to do: " + r.output());
        }
    }
}
