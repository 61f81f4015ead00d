package io.hlctrace.probe;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Follows Docker containers chosen by name or label: every two seconds it lists the running
 * containers through the Engine API on its Unix socket, attaches the probe to the cgroup v2
 * directory of each new match and detaches from those that are gone. A minimal HTTP/1.0 client:
 * Docker's API is plain JSON over the socket (JSON is YAML, so SnakeYAML parses it).
 */
final class DockerFollower implements AutoCloseable {
    private static final long PERIOD_MS = 2000;
    private final ProbeConfig.DockerTargets targets;
    private final BpfProbe probe;
    private final Consumer<String> info;
    private final Map<String, Path> attached = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private String lastError;

    DockerFollower(ProbeConfig.DockerTargets targets, BpfProbe probe, Consumer<String> info) {
        this.targets = targets;
        this.probe = probe;
        this.info = info;
        thread = new Thread(this::loop, "hlctrace-docker-follower");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (running) {
            try {
                sync();
                lastError = null;
            } catch (ProbeException e) {
                if (!e.getMessage().equals(lastError)) info.accept(e.describe());
                lastError = e.getMessage();
            }
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One round: attach to new matches, detach from containers that are gone. */
    @SuppressWarnings("unchecked")
    synchronized void sync() {
        Set<String> seen = new HashSet<>();
        for (Object o : (List<Object>) get("/containers/json")) {
            Map<String, Object> c = (Map<String, Object>) o;
            String id = (String) c.get("Id");
            if (!matches(c)) continue;
            seen.add(id);
            if (attached.containsKey(id)) continue;
            String name = names(c);
            Path cg;
            try {
                Map<String, Object> inspect = (Map<String, Object>) get("/containers/" + id + "/json");
                int pid = ((Number) ((Map<String, Object>) inspect.get("State")).get("Pid")).intValue();
                if (pid <= 0) continue; // not running yet: the next round sees it
                cg = Kernel.cgroupOfPid(pid);
                probe.attachCgroup(cg);
            } catch (ProbeException e) {
                // one container that went away (or was refused) must not keep the others unstamped
                info.accept("container " + name + " (" + id.substring(0, 12) + ") could not be attached, it may be gone: " + e.describe());
                continue;
            }
            attached.put(id, cg);
            info.accept("attached to container " + name + " (" + id.substring(0, 12) + ") at " + cg);
        }
        for (var it = attached.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!seen.contains(e.getKey())) {
                probe.detachCgroup(e.getValue());
                it.remove();
                info.accept("container " + e.getKey().substring(0, 12) + " is gone; detached from " + e.getValue());
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static String names(Map<String, Object> c) {
        List<Object> n = (List<Object>) c.getOrDefault("Names", List.of());
        return n.isEmpty() ? "?" : String.valueOf(n.get(0)).replaceFirst("^/", "");
    }

    @SuppressWarnings("unchecked")
    private boolean matches(Map<String, Object> c) {
        for (Object n : (List<Object>) c.getOrDefault("Names", List.of())) {
            if (targets.names().contains(String.valueOf(n).replaceFirst("^/", ""))) return true;
        }
        Map<String, Object> labels = (Map<String, Object>) c.getOrDefault("Labels", Map.of());
        for (String l : targets.labels()) {
            int eq = l.indexOf('=');
            String k = eq < 0 ? l : l.substring(0, eq);
            if (labels != null && labels.containsKey(k) && (eq < 0 || l.substring(eq + 1).equals(String.valueOf(labels.get(k))))) return true;
        }
        return false;
    }

    synchronized Set<String> attachedContainers() { return Set.copyOf(attached.keySet()); }

    private Object get(String pathAndQuery) {
        Path sock = targets.socket();
        if (!Files.exists(sock)) {
            throw new ProbeException("no Docker engine socket at " + sock, "start dockerd, or set targets.docker.socket to its socket (dockerd -H unix://PATH)");
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(sock));
            String req = "GET " + pathAndQuery + " HTTP/1.0\r\nHost: docker\r\n\r\n";
            ch.write(ByteBuffer.wrap(req.getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(16384);
            while (ch.read(buf.clear()) > 0) out.write(buf.array(), 0, buf.position());
            String resp = out.toString(StandardCharsets.UTF_8);
            int body = resp.indexOf("\r\n\r\n");
            String status = resp.substring(0, Math.max(0, resp.indexOf("\r\n")));
            if (body < 0 || !status.contains(" 200 ")) {
                throw new ProbeException("Docker API " + pathAndQuery + " answered \"" + status + "\"", "is " + sock + " a Docker engine socket?");
            }
            return new Yaml(new SafeConstructor(new LoaderOptions())).load(resp.substring(body + 4));
        } catch (IOException e) {
            throw new ProbeException("cannot talk to the Docker engine at " + sock + ": " + e.getMessage(), "is dockerd running?");
        }
    }


    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
