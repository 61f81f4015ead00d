package io.hlctrace.demo.docker;

import io.hlctrace.demo.OutputLines;
import io.hlctrace.demo.run.Workload;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import com.github.dockerjava.api.model.ContainerNetwork;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;

/**
 * The container demo's {@link ContainerRuntime} through Testcontainers: networks from
 * {@link Network}, containers as {@link GenericContainer}s of the local images (never pulled), on
 * the private engine that {@link HtkEngineStrategy} points Testcontainers at. Call
 * {@link HtkDockerEngine#start()} first.
 */
public final class TestcontainersRuntime implements ContainerRuntime {
    private final Map<String, Network> networks = new ConcurrentHashMap<>();
    private final Map<String, GenericContainer<?>> containers = new ConcurrentHashMap<>();
    private final Map<String, Path> stderrOf = new ConcurrentHashMap<>();
    private final List<String> order = new ArrayList<>();

    /** Starts the private engine; null when it runs, or why the container tests must skip. */
    public static String startEngine() {
        return HtkDockerEngine.start();
    }

    private static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    @Override
    public String createNetwork(String name) {
        Network n = Network.builder().createNetworkCmdModifier(c -> c.withName(name)).build();
        String id = n.getId(); // Testcontainers creates networks lazily
        networks.put(name, n);
        return docker().inspectNetworkCmd().withNetworkId(id).exec().getIpam().getConfig().get(0).getSubnet();
    }

    @Override
    public Workload.Output start(Spec spec) {
        LineOutput out = new LineOutput(spec.name(), spec.stderr());
        GenericContainer<?> c = new GenericContainer<>(org.testcontainers.utility.DockerImageName.parse(spec.image()))
                .withImagePullPolicy(HtkDockerEngine.NEVER_PULL)
                .withNetwork(networks.get(spec.network()))
                .withLabels(spec.labels())
                .withEnv(spec.env())
                .withCommand(spec.command().toArray(String[]::new))
                .withLogConsumer(out::accept)
                // the demo's containers wait at their gate: running is all there is to wait for
                .waitingFor(new AbstractWaitStrategy() {
                    @Override
                    protected void waitUntilReady() {}
                })
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName(spec.name());
                    cmd.getHostConfig().withInit(true).withSecurityOpts(spec.securityOpts());
                });
        spec.binds().forEach((host, inside) -> {
            boolean ro = inside.endsWith(":ro");
            c.withFileSystemBind(host.toAbsolutePath().toString(), ro ? inside.substring(0, inside.length() - 3) : inside, ro ? BindMode.READ_ONLY : BindMode.READ_WRITE);
        });
        containers.put(spec.name(), c);
        synchronized (order) {
            order.add(spec.name());
        }
        stderrOf.put(spec.name(), spec.stderr());
        c.start();
        return out;
    }

    @Override
    public void connect(String container, String network) {
        docker().connectToNetworkCmd().withContainerId(containers.get(container).getContainerId()).withNetworkId(networks.get(network).getId()).exec();
    }

    @Override
    public String ip(String container, String network) throws IOException {
        ContainerNetwork n = docker().inspectContainerCmd(containers.get(container).getContainerId()).exec().getNetworkSettings().getNetworks().get(network);
        if (n == null || n.getIpAddress() == null || n.getIpAddress().isEmpty()) throw new IOException("container " + container + " has no address on network " + network);
        return n.getIpAddress();
    }

    @Override
    public String id(String container) {
        return containers.get(container).getContainerId();
    }

    @Override
    public Workload.Output startAgain(String container) {
        String id = id(container);
        LineOutput out = new LineOutput(container, stderrOf.get(container));
        docker().startContainerCmd(id).exec();
        // the container waits at its gate until the demo opens it: following from now loses no line
        docker().logContainerCmd(id).withFollowStream(true).withStdOut(true).withStdErr(true).withTail(0).exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame f) {
                out.accept(new OutputFrame(f.getStreamType() == StreamType.STDERR ? OutputFrame.OutputType.STDERR : OutputFrame.OutputType.STDOUT, f.getPayload()));
            }

            @Override
            public void onComplete() {
                out.accept(OutputFrame.END);
            }
        });
        return out;
    }

    @Override
    public void stop(List<String> names, Duration grace) throws InterruptedException {
        // in parallel, as `docker stop a b c` does
        List<Thread> stops = new ArrayList<>();
        for (String n : names) {
            GenericContainer<?> c = containers.get(n);
            if (c == null || c.getContainerId() == null) continue;
            Thread t = new Thread(() -> {
                try {
                    docker().stopContainerCmd(c.getContainerId()).withTimeout((int) grace.toSeconds()).exec();
                } catch (RuntimeException alreadyStopped) {
                    // stopped or gone: nothing to flush
                }
            }, "htk-stop-" + n);
            t.start();
            stops.add(t);
        }
        for (Thread t : stops) t.join(grace.toMillis() + 20_000);
    }

    @Override
    public void close() {
        List<String> names;
        synchronized (order) {
            names = new ArrayList<>(order);
            order.clear();
        }
        for (String n : names) {
            GenericContainer<?> c = containers.remove(n);
            if (c == null) continue;
            try {
                c.stop();
            } catch (RuntimeException e) {
                System.err.println("TestcontainersRuntime: could not remove container " + n + ": " + e);
            }
        }
        for (Network n : new ArrayList<>(networks.values())) {
            try {
                n.close();
            } catch (RuntimeException e) {
                System.err.println("TestcontainersRuntime: could not remove network " + n.getId() + ": " + e);
            }
        }
        networks.clear();
    }

    /** A container's output: stdout line by line for the demo, stderr appended to its file. */
    private static final class LineOutput implements Workload.Output {
        private final String name;
        private final Path stderr;
        private final OutputLines lines;
        private final StringBuilder partial = new StringBuilder();
        private volatile boolean ended;

        LineOutput(String name, Path stderr) {
            this.name = name;
            this.stderr = stderr;
            this.lines = new OutputLines(name, stderr);
        }

        synchronized void accept(OutputFrame frame) {
            if (frame.getType() == OutputFrame.OutputType.END) {
                if (partial.length() > 0) lines.add(partial.toString());
                partial.setLength(0);
                ended = true;
                lines.end();
                return;
            }
            byte[] bytes = frame.getBytes();
            if (bytes == null) return;
            if (frame.getType() == OutputFrame.OutputType.STDERR) {
                try (OutputStream o = Files.newOutputStream(stderr, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                    o.write(bytes);
                } catch (IOException e) {
                    System.err.println(name + ": " + new String(bytes, StandardCharsets.UTF_8));
                }
                return;
            }
            partial.append(new String(bytes, StandardCharsets.UTF_8));
            for (int nl; (nl = partial.indexOf("\n")) >= 0; ) {
                lines.add(partial.substring(0, nl));
                partial.delete(0, nl + 1);
            }
        }

        @Override
        public String expect(String prefix, Duration timeout) throws IOException, InterruptedException {
            return lines.expect(prefix, timeout, () -> "its log stream ended");
        }

        @Override
        public boolean waitFor(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!ended && System.nanoTime() < deadline) Thread.sleep(50);
            return ended;
        }
    }
}
