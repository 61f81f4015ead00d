package io.hlctrace.demo.docker;

import java.net.URI;
import java.nio.file.Files;

import org.testcontainers.dockerclient.DockerClientProviderStrategy;
import org.testcontainers.dockerclient.TransportConfig;

/**
 * Points Testcontainers at the private engine of scripts/docker-engine.sh, whatever DOCKER_HOST or
 * ~/.testcontainers.properties say: registered through META-INF/services (Testcontainers loads its
 * strategies with ServiceLoader) with a priority above the built-in ones, applicable only while the
 * engine's socket exists. Never persisted to ~/.testcontainers.properties.
 */
public final class HtkEngineStrategy extends DockerClientProviderStrategy {
    @Override
    public String getDescription() {
        return "hlctrace's private engine (" + HtkDockerEngine.DOCKER_HOST + ", scripts/docker-engine.sh)";
    }

    @Override
    protected boolean isApplicable() {
        return Files.exists(HtkDockerEngine.SOCKET);
    }

    @Override
    protected boolean isPersistable() {
        return false;
    }

    @Override
    protected int getPriority() {
        return 1_000;
    }

    @Override
    public TransportConfig getTransportConfig() {
        return TransportConfig.builder().dockerHost(URI.create(HtkDockerEngine.DOCKER_HOST)).build();
    }
}
