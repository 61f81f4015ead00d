package io.hlctrace.demo.docker;

import io.hlctrace.demo.run.Workload;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the container demo needs from a Docker engine: networks, containers started from a
 * {@link Spec} with their standard output as a {@link Workload.Output}, and removal of all of it.
 * The demo drives the engine through its command-line client ({@link DockerCliRuntime}); the
 * container tests through Testcontainers. Implementations remove what they created in
 * {@link #close()}, which may be called twice (a finally block and a shutdown hook).
 */
public interface ContainerRuntime extends AutoCloseable {
    /**
     * A container to create and start. {@code binds}: host path to container path, with
     * {@code :ro} appended to the container path for read-only. The first network is the one the
     * container is created on; it is connected to the others before its command runs (the demo's
     * containers wait at a gate until it has). {@code securityOpts}: Docker's
     * {@code --security-opt} values ({@code seccomp=unconfined}). Containers run with Docker's
     * init process, so their command is not PID 1 and a SIGTERM ends it.
     */
    record Spec(String name, String image, String network, Map<Path, String> binds, Map<String, String> env, Map<String, String> labels,
                List<String> securityOpts, List<String> command, Path stderr) {}

    /** Creates a user-defined bridge network and returns its subnet (CIDR). */
    String createNetwork(String name) throws IOException, InterruptedException;

    /** Creates and starts a container; its standard output comes line by line. */
    Workload.Output start(Spec spec) throws IOException, InterruptedException;

    /** Connects a container to one more network. */
    void connect(String container, String network) throws IOException, InterruptedException;

    /** The container's IPv4 address on a network. */
    String ip(String container, String network) throws IOException, InterruptedException;

    /** The container's full id (the probe names containers by it when they go). */
    String id(String container) throws IOException, InterruptedException;

    /** Starts a container that has exited once more; its new standard output. */
    Workload.Output startAgain(String container) throws IOException, InterruptedException;

    /**
     * Stops containers: SIGTERM (the JVMs' agents flush their event logs in their shutdown hooks),
     * SIGKILL after {@code grace}.
     */
    void stop(List<String> containers, Duration grace) throws IOException, InterruptedException;

    /** Removes every container and network this runtime created; never throws. */
    @Override
    void close();
}
