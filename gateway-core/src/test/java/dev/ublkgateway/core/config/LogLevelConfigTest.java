package dev.ublkgateway.core.config;

import dev.ublkgateway.core.log.LogLevel;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The top-level log-level: key. */
class LogLevelConfigTest {
    private static final String DEVICE = """
            devices:
              - name: a
                size: 1MiB
                target: {type: memory}
            """;

    private static GatewayConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, "/etc/ublk/vol.yaml", ComponentTypes.builtIn());
    }

    @Test
    void absentMeansUnset() {
        assertEquals(Optional.empty(), parse(DEVICE).logLevel());
    }

    @Test
    void eachLevelReads() {
        for (LogLevel l : LogLevel.values()) {
            String name = l.name().toLowerCase(java.util.Locale.ROOT);
            assertEquals(Optional.of(l), parse("log-level: " + name + "\n" + DEVICE).logLevel(), name);
        }
    }

    @Test
    void anUnknownLevelIsOneLineWithTheFix() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("log-level: loud\n" + DEVICE));
        assertEquals(1, e.problems().size(), e.problems().toString());
        String p = e.problems().getFirst();
        assertTrue(p.startsWith("/etc/ublk/vol.yaml:1:12: log-level \"loud\" is not error, warn, info or debug; "), p);
        assertTrue(p.contains("log-level: warn"), p);
    }
}
