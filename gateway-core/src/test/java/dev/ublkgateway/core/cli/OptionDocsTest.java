package dev.ublkgateway.core.cli;

import dev.ublkgateway.plugins.chunked.ChunkedTargetProvider;
import dev.ublkgateway.core.stages.BuiltInStages;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What `plugins info` prints for an option: its key, type, default or requirement, and meaning. */
class OptionDocsTest {
    @Test
    void optionsShowTypeDefaultAndDescription() {
        List<String> lines = OptionDocs.options(new BuiltInStages.RateLimit());
        assertEquals(List.of(
                "iops (integer, default 0): requests per second for the whole device; 0 = no limit",
                "bandwidth (string, default no limit): bytes per second for the whole device, e.g. 100MiB",
                "burst-ms (integer, default 100): unused budget that may be spent at once, in milliseconds"), lines);
    }

    @Test
    void requiredOptionsSaySo() {
        List<String> lines = OptionDocs.options(new ChunkedTargetProvider());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("store (") && l.contains("required")), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("chunk-size (") && l.contains("default")), String.join("\n", lines));
    }

    @Test
    void aStageWithoutOptionsSaysSo() {
        assertEquals(List.of("(no options)"), OptionDocs.options(new BuiltInStages.Stats()));
    }
}
