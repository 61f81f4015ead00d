package io.hlctrace.demo.docker;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.file.Path;

import org.testcontainers.images.ImagePullPolicy;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.ResourceReaper;

/**
 * The Docker engine of the container tests: scripts/docker-engine.sh's private dockerd
 * ({@link DockerEngine}) with the locally built images htk/jvm:1 and htk/python:1, which are
 * never pulled (no registry is reachable), and Testcontainers' Ryuk reaper switched off.
 */
final class HtkDockerEngine {
    static final Path SOCKET = DockerEngine.SOCKET;
    static final String DOCKER_HOST = DockerEngine.DOCKER_HOST;
    static final DockerImageName JVM_IMAGE = DockerImageName.parse(DockerEngine.JVM_IMAGE);
    static final DockerImageName PYTHON_IMAGE = DockerImageName.parse(DockerEngine.PYTHON_IMAGE);
    /** The images exist only locally: a pull could only fail, and slowly. */
    static final ImagePullPolicy NEVER_PULL = image -> false;

    private HtkDockerEngine() {}

    static Path projectRoot() {
        return DockerEngine.projectRoot();
    }

    /**
     * Starts the engine through {@link DockerEngine#start()}; returns null when it runs, or why not
     * (not root) for {@code assumeTrue(reason == null, reason)}. Root but no engine: the test fails
     * with the script's output.
     */
    static synchronized String start() {
        String reason;
        try {
            reason = DockerEngine.start();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("the container tests need the engine of scripts/docker-engine.sh: " + e.getMessage(), e);
        }
        if (reason != null) return "container test skipped: " + reason;
        disableRyuk();
        return null;
    }

    /**
     * Testcontainers' Ryuk reaper is a container image from a registry; Testcontainers reads its
     * switch only from the TESTCONTAINERS_RYUK_DISABLED environment variable, which a test cannot
     * set for itself. Installing the JVM-shutdown-hook reaper (what that variable selects) before
     * first use has the same effect; the tests also remove their containers and networks themselves.
     */
    private static void disableRyuk() {
        if (Boolean.parseBoolean(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) return;
        try {
            Field instance = ResourceReaper.class.getDeclaredField("instance");
            instance.setAccessible(true);
            synchronized (ResourceReaper.class) {
                if (instance.get(null) == null) {
                    Constructor<?> hook = Class.forName("org.testcontainers.utility.JVMHookResourceReaper").getDeclaredConstructor();
                    hook.setAccessible(true);
                    instance.set(null, hook.newInstance());
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot switch Testcontainers' Ryuk reaper off (its image cannot be pulled here);"
                    + " run the tests with TESTCONTAINERS_RYUK_DISABLED=true: " + e, e);
        }
    }

}
