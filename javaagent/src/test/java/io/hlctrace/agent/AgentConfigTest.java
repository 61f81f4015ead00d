package io.hlctrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;

import org.junit.jupiter.api.Test;

class AgentConfigTest {
    @Test
    void aFullConfigIsRead() throws Exception {
        AgentConfig c = AgentConfig.parse(String.join("\n",
                "node: A", "process: gw", "clock: local", "skew: {offset: -2h, driftPpm: 50}", "maxOffset: 250ms",
                "logDir: /tmp/x", "queueCapacity: 1024", "registry: false", "failHard: true",
                "peers:", "  - {cidrs: [10.77.0.0/16], ports: [8080]}", "  - {hosts: [127.0.0.1]}",
                "ports:", "  5432: plain", "  9000: framed"), "t.yml");
        assertEquals("A", c.node);
        assertEquals("gw", c.process);
        assertEquals("local", c.clock);
        assertEquals(-Duration.ofHours(2).toNanos(), c.skewOffsetNanos);
        assertEquals(50.0, c.skewDriftPpm);
        assertEquals(Duration.ofMillis(250), c.maxOffset);
        assertEquals(1024, c.queueCapacity);
        assertFalse(c.registry);
        assertTrue(c.failHard);
        assertEquals(AgentConfig.PortMode.PLAIN, c.modeFor(5432));
        assertEquals(AgentConfig.PortMode.FRAMED, c.modeFor(9000));
        assertEquals(AgentConfig.PortMode.AUTO, c.modeFor(80));
        assertTrue(c.peers.get(0).matches(InetAddress.getByName("10.77.3.4"), 8080));
        assertFalse(c.peers.get(0).matches(InetAddress.getByName("10.77.3.4"), 8081));
        assertFalse(c.peers.get(0).matches(InetAddress.getByName("10.78.0.1"), 8080));
        assertTrue(c.peers.get(1).matches(InetAddress.getByName("127.0.0.1"), 1));
    }

    @Test
    void failModeTakesClockSyncsValues() throws Exception {
        assertEquals(AgentConfig.FailMode.MARK_UNHEALTHY, AgentConfig.parse("node: A", "t.yml").failMode, "default");
        assertEquals(AgentConfig.FailMode.REFUSE, AgentConfig.parse("failMode: refuse", "t.yml").failMode);
        assertEquals(AgentConfig.FailMode.MARK_UNHEALTHY, AgentConfig.parse("failMode: mark-unhealthy", "t.yml").failMode);
        AgentConfig.ConfigException e = assertThrows(AgentConfig.ConfigException.class, () -> AgentConfig.parse("node: A\nfailMode: stop", "t.yml"));
        assertTrue(e.getMessage().startsWith("t.yml:2: failMode must be mark-unhealthy or refuse"), e.getMessage());
    }

    @Test
    void anEmptyConfigGivesDefaults() throws Exception {
        AgentConfig c = AgentConfig.parse("", "empty.yml");
        assertFalse(c.node.isBlank());
        assertEquals(AgentConfig.DEFAULT_MAX_OFFSET, c.maxOffset);
        assertTrue(c.peers.isEmpty());
    }

    private static String error(String yaml) {
        return assertThrows(AgentConfig.ConfigException.class, () -> AgentConfig.parse(yaml, "c.yml")).getMessage();
    }

    @Test
    void errorsNameTheFileAndLine() {
        assertTrue(error("node: a\nmaxOffset: soon\n").startsWith("c.yml:2: expected a duration"), error("node: a\nmaxOffset: soon\n"));
        assertTrue(error("node: a\n\nnodes: b\n").startsWith("c.yml:3: unknown key 'nodes'"));
        assertTrue(error("peers:\n  - {cidrs: [10.0.0.0/99]}\n").startsWith("c.yml:2:"));
        assertTrue(error("ports:\n  80: maybe\n").contains("c.yml:2: port mode must be auto, framed or plain"));
        assertTrue(error("node: [a\n").startsWith("c.yml:"), error("node: [a\n"));
        assertTrue(error("maxOffset: -5ms\n").contains("must not be negative"));
        assertTrue(error("peers:\n  - {}\n").contains("would match every peer"));
    }

    @Test
    void durations() {
        assertEquals(Duration.ofMillis(1500), AgentConfig.parseDuration("1.5s"));
        assertEquals(Duration.ofNanos(-10_000), AgentConfig.parseDuration("-10us"));
        assertEquals(Duration.ZERO, AgentConfig.parseDuration("0"));
        assertThrows(IllegalArgumentException.class, () -> AgentConfig.parseDuration("5 parsecs"));
    }
}
