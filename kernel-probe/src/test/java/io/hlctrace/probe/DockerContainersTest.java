package io.hlctrace.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Containers chosen by name and by label are discovered through the Docker Engine API and stamped;
 * one started after the daemon is picked up, and one that goes away is detached. Uses the private
 * engine of scripts/docker-engine.sh (the test command starts it as root) and its htk/python:1 image.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DockerContainersTest {
    static final Path ENGINE = Path.of("..", "scripts", "docker-engine.sh").toAbsolutePath().normalize();
    static final String IMAGE = "htk/python:1";

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", cmd));
        }
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
        return out;
    }

    @Test
    void containersByNameAndLabelAreFollowed() throws Exception {
        String why = BpfProbe.cannotRunReason();
        assumeTrue(why == null, "Docker probe test skipped: " + why);
        assumeTrue(Files.isExecutable(ENGINE), "Docker probe test skipped: " + ENGINE + " is missing");
        Process status = new ProcessBuilder(ENGINE.toString(), "status").redirectErrorStream(true).start();
        String statusOut = new String(status.getInputStream().readAllBytes());
        assumeTrue(status.waitFor(30, TimeUnit.SECONDS) && status.exitValue() == 0 && statusOut.contains("image " + IMAGE + ": present"),
                "Docker probe test skipped: no private Docker engine with image " + IMAGE + " (start it as root: scripts/docker-engine.sh start): " + statusOut.strip());
        String socket = statusOut.replaceAll("(?s).*DOCKER_HOST=unix://([^\\s,]+).*", "$1").strip();
        String docker = Files.isExecutable(Path.of("/usr/bin/docker")) ? "/usr/bin/docker" : "docker";

        String id = "htq" + ProcessHandle.current().pid();
        String server = id + "-srv", client = id + "-cli";
        Path dir = Files.createTempDirectory("htq-docker");
        Path log = dir.resolve("events.jsonl");
        ProbeConfig config = new ProbeConfig(id + "d", ProbeConfig.DEFAULT_PIN_ROOT, log, null, Duration.ofSeconds(1), 1024, 0, 0,
                List.of(), List.of(), new ProbeConfig.DockerTargets(Path.of(socket), List.of(server), List.of("hlctrace.test=" + id)), null);
        List<String> containers = new ArrayList<>();
        ProbeDaemon daemon = null;
        try {
            String echo = "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',7000))\ns.listen(4)\n"
                    + "while True:\n c,_=s.accept()\n while True:\n  d=c.recv(65536)\n  if not d: break\n  c.sendall(d)\n c.close()\n";
            run(docker, "-H", "unix://" + socket, "run", "-d", "--name", server, IMAGE, "python3", "-c", echo);
            containers.add(server);
            String serverIp = run(docker, "-H", "unix://" + socket, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", server);

            daemon = ProbeDaemon.start(config);
            awaitAttached(daemon, 1);

            // started after the daemon, found by its label
            String ping = "import socket\nc=socket.create_connection(('" + serverIp + "',7000),timeout=10)\n"
                    + "for i in range(200):\n c.sendall(b'm'*(1+i*13))\n n=0\n while n<1+i*13: n+=len(c.recv(65536))\nprint('done')\n";
            run(docker, "-H", "unix://" + socket, "run", "-d", "--name", client, "--label", "hlctrace.test=" + id, IMAGE,
                    "sh", "-c", "sleep 3; python3 -c \"$0\"; sleep 30", ping);
            containers.add(client);
            awaitAttached(daemon, 2);
            for (int i = 0; i < 200 && !run(docker, "-H", "unix://" + socket, "logs", client).contains("done"); i++) Thread.sleep(100);
            assertTrue(run(docker, "-H", "unix://" + socket, "logs", client).contains("done"), "the client container finished");
            TwoExecutorsTest.settle(daemon, 800);

            List<EventLog.Event> events = EventLog.read(log);
            String serverEndpoint = serverIp + ":7000";
            List<EventLog.Event> sends = events.stream().filter(e -> "send".equals(e.kind()) && serverEndpoint.equals(e.remote())).toList();
            assertEquals(200, sends.size(), "every message of the late container was stamped");
            String clientEndpoint = sends.get(0).local();
            List<String> problems = new ArrayList<>();
            EventLog.pair(sends, EventLog.on(events, "recv", serverEndpoint, clientEndpoint), problems);
            EventLog.pair(EventLog.on(events, "send", serverEndpoint, clientEndpoint), EventLog.on(events, "recv", clientEndpoint, serverEndpoint), problems);
            assertEquals(List.of(), problems);
            Set<Object> cgroups = new HashSet<>();
            events.stream().filter(EventLog.Event::message).forEach(e -> cgroups.add(e.raw().get("cgroup")));
            assertEquals(2, cgroups.size(), "events come from both containers' cgroups");

            run(docker, "-H", "unix://" + socket, "rm", "-f", client);
            containers.remove(client);
            for (int i = 0; i < 100 && daemon.probe().attachedCgroups().size() != 1; i++) Thread.sleep(100);
            assertEquals(1, daemon.probe().attachedCgroups().size(), "the removed container was detached");
        } finally {
            if (daemon != null) daemon.close();
            for (String c : containers) {
                try {
                    run(docker, "-H", "unix://" + socket, "rm", "-f", c);
                } catch (IOException e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
            Path pins = ProbeConfig.DEFAULT_PIN_ROOT.resolve(id + "d");
            Files.deleteIfExists(pins.resolve("clock"));
            Files.deleteIfExists(pins);
            Files.deleteIfExists(Path.of("/run/hlctrace", id + "d", "probe.lock"));
            Files.deleteIfExists(Path.of("/run/hlctrace", id + "d"));
            Files.deleteIfExists(log);
            Files.deleteIfExists(dir);
        }
    }

    static void awaitAttached(ProbeDaemon daemon, int n) throws InterruptedException {
        for (int i = 0; i < 100 && daemon.probe().attachedCgroups().size() < n; i++) Thread.sleep(100);
        assertEquals(n, daemon.probe().attachedCgroups().size(), "containers attached: " + daemon.probe().attachedCgroups());
    }
}
