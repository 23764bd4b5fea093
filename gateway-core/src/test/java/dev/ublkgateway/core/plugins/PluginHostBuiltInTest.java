package dev.ublkgateway.core.plugins;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PluginHostBuiltInTest {
    @TempDir
    Path dir;

    /** The chunked plugin's target and stores count as built in here: these tests have it on their class path. */
    @Test
    void builtInsAreRegisteredThroughPf4j() {
        try (PluginHost host = PluginHost.load(dir.resolve("absent"))) {
            List<String> names = host.provided().stream().map(p -> p.kind() + ":" + p.name() + "@" + p.pluginId()).sorted().toList();
            assertEquals(List.of("stage:fault@built-in", "stage:rate-limit@built-in", "stage:read-only@built-in",
                    "stage:script@built-in", "stage:stats@built-in", "store:directory@built-in", "store:memory@built-in",
                    "target:chunked@built-in", "target:file@built-in", "target:memory@built-in", "target:null@built-in"),
                    names.stream().filter(n -> n.endsWith("@built-in")).toList());
            assertTrue(host.problems().isEmpty(), host.problems().toString());
            assertTrue(host.stage("stats").isPresent());
            assertTrue(host.target("memory").isPresent());
        }
    }
}
