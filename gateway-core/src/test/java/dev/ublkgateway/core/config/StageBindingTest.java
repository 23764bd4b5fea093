package dev.ublkgateway.core.config;

import dev.ublkgateway.api.Size;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ublkgateway.api.ConfigOption;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code stages:} list of a device: binding, order, types and the ordering rule. */
class StageBindingTest {

    record StatsConfig() {}

    record RateLimitConfig(
            @ConfigOption(required = true, description = "requests per second") Integer iops,
            @ConfigOption(description = "bytes that may pass at once", defaultValue = "1MiB") Size burst) {

        RateLimitConfig {
            if (iops < 1) {
                throw new IllegalArgumentException("iops " + iops + " is out of range; use 1 or more");
            }
            if (burst == null) {
                burst = Size.of(Size.MiB);
            }
        }
    }

    record ReadOnlyConfig() {}

    record FaultConfig(double errorRate, String op) {}

    /** fault before stats would count injected errors; read-only in front of null protects nothing. */
    private static final ComponentTypes TYPES = ComponentTypes.builtIn()
            .withStage("stats", StatsConfig.class)
            .withStage("rate-limit", RateLimitConfig.class)
            .withStage("read-only", ReadOnlyConfig.class)
            .withStage("fault", FaultConfig.class)
            .withOrderingRule((stage, next) -> stage.equals("fault") && next.equals("stats")
                    ? "stats would count the injected errors" : null)
            .withOrderingRule((stage, next) -> stage.equals("read-only") && next.equals("null")
                    ? "the null target keeps nothing to protect" : null);

    private static DeviceConfig device(String yaml) {
        return ConfigLoader.parse(yaml, "vol.yaml", TYPES).devices().getFirst();
    }

    private static List<String> problems(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "vol.yaml", TYPES));
        assertEquals(String.join("\n", e.problems()), e.getMessage());
        return e.problems();
    }

    @Test
    void stagesBindInFileOrder() {
        DeviceConfig d = device("""
                devices:
                  - name: a
                    size: 1GiB
                    stages:
                      - type: stats
                      - type: rate-limit
                        iops: 500
                        burst: 64KiB
                      - {type: fault, error-rate: 0.25, op: write}
                      - type: read-only
                    target: {type: memory}
                """);
        assertEquals(List.of("stats", "rate-limit", "fault", "read-only"), d.stages().stream().map(ComponentSpec::type).toList());
        assertEquals(new StatsConfig(), d.stages().get(0).config(StatsConfig.class));
        assertEquals(new RateLimitConfig(500, Size.of(64 * Size.KiB)), d.stages().get(1).config(RateLimitConfig.class));
        assertEquals(new FaultConfig(0.25, "write"), d.stages().get(2).config(FaultConfig.class));

        // positions of each stage's mapping
        assertEquals(List.of(5, 6, 9, 10), d.stages().stream().map(ComponentSpec::line).toList());
        assertEquals(List.of(9, 9, 9, 9), d.stages().stream().map(ComponentSpec::column).toList());

        ComponentSpec rate = d.stages().get(1);
        assertTrue(rate.isBound());
        assertEquals(500, rate.options().get("iops").asInt());
        assertEquals("64KiB", rate.options().get("burst").asText());
        assertFalse(rate.options().has("type"));
        assertThrows(IllegalStateException.class, () -> rate.config(StatsConfig.class));
        assertEquals(new RateLimitConfig(10, null), device("""
                devices: [{name: a, size: 4KiB, stages: [{type: rate-limit, iops: 10}], target: {type: null}}]
                """).stages().getFirst().config());
        assertThrows(UnsupportedOperationException.class, () -> d.stages().add(rate));
    }

    @Test
    void stagesMayComeFromAnAnchor() {
        DeviceConfig d = ConfigLoader.parse("""
                x-chain: &chain
                  - type: stats
                  - {type: rate-limit, iops: 7}
                devices:
                  - {name: a, size: 4KiB, stages: *chain, target: {type: null}}
                """, "vol.yaml", TYPES).devices().getFirst();
        assertEquals(List.of("stats", "rate-limit"), d.stages().stream().map(ComponentSpec::type).toList());
    }

    @Test
    void unknownStageType() {
        assertEquals(List.of("vol.yaml:6:15: unknown stage type \"stas\"; did you mean \"stats\"?"
                + " (known: fault, rate-limit, read-only, stats)"), problems("""
                devices:
                  - name: a
                    size: 1GiB
                    stages:
                      - type: stats
                      - type: stas
                    target: {type: memory}
                """));
        assertEquals(List.of("vol.yaml:2:43: unknown stage type \"cache\"; known: fault, rate-limit, read-only,"
                + " stats"), problems("""
                devices:
                  - {name: a, size: 4KiB, stages: [{type: cache}], target: {type: null}}
                """));
        ConfigException none = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                devices:
                  - {name: a, size: 4KiB, stages: [{type: stats}], target: {type: null}}
                """, "vol.yaml", ComponentTypes.builtIn()));
        assertEquals("vol.yaml:2:43: unknown stage type \"stats\"; remove the stage (no stage types are available)",
                none.getMessage());
    }

    @Test
    void orderingRuleIsReportedAtTheOffendingStage() {
        // fault directly before stats: reported at the fault stage (line 6), not at stats
        assertEquals(List.of("vol.yaml:6:9: stage \"fault\" cannot precede stage \"stats\" in device \"a\""
                + " (stats would count the injected errors); reorder or remove the stages"), problems("""
                devices:
                  - name: a
                    size: 1GiB
                    stages:
                      - {type: rate-limit, iops: 5}
                      - type: fault
                      - type: stats
                    target: {type: memory}
                """));
        // the last stage is checked against the target
        assertEquals(List.of("vol.yaml:5:9: stage \"read-only\" cannot precede target \"null\" in device \"a\""
                + " (the null target keeps nothing to protect); reorder or remove the stages"), problems("""
                devices:
                  - name: a
                    size: 1GiB
                    stages:
                      - type: read-only
                    target: {type: null}
                """));
        // the other order is fine
        assertEquals(List.of("stats", "fault", "read-only"), device("""
                devices:
                  - name: a
                    size: 1GiB
                    stages: [{type: stats}, {type: fault}, {type: read-only}]
                    target: {type: memory}
                """).stages().stream().map(ComponentSpec::type).toList());
    }

    @Test
    void orderIsCheckedEvenWhenAStageHasBadOptions() {
        assertEquals(List.of(
                "vol.yaml:5:9: stage \"fault\" cannot precede stage \"stats\" in device \"a\""
                        + " (stats would count the injected errors); reorder or remove the stages",
                "vol.yaml:6:21: error-rate \"often\" is not a number; use a number, e.g. 1.5"), problems("""
                devices:
                  - name: a
                    size: 1GiB
                    stages:
                      - type: fault
                        error-rate: often
                      - type: stats
                    target: {type: memory}
                """));
    }

    @Test
    void everyStageProblemIsReported() {
        assertEquals(List.of(
                "vol.yaml:5:9: stage #1 of device \"a\" is \"stats\", not a mapping; write each stage as a mapping"
                        + " with type: and the stage's options, e.g. - type: stats",
                "vol.yaml:6:9: stage #2 of device \"a\" has no \"type\"; add type: <type>, one of fault, rate-limit,"
                        + " read-only, stats",
                "vol.yaml:7:9: stage type \"rate-limit\" in device \"a\" needs option \"iops\"; add iops: <value>"
                        + " to the stage",
                "vol.yaml:8:9: unknown option \"ipos\" of stage type \"rate-limit\" in device \"a\"; did you mean"
                        + " \"iops\"? (known: iops, burst)",
                "vol.yaml:10:15: iops 0 is out of range; use 1 or more",
                "vol.yaml:13:9: unknown option \"rate\" of stage type \"stats\" in device \"a\"; remove it"
                        + " (stage type \"stats\" takes no options)",
                "vol.yaml:15:35: stages is a mapping, not a list; list the stages under stages:, each as a mapping"
                        + " starting with \"- type:\""), problems("""
                devices:
                  - name: a
                    size: 1GiB
                    stages:
                      - stats
                      - iops: 5
                      - type: rate-limit
                        ipos: 5
                      - type: rate-limit
                        iops: 0
                      - type: stats
                      - type: stats
                        rate: 1
                    target: {type: memory}
                  - {name: b, size: 1GiB, stages: {type: stats}, target: {type: memory}}
                """));
    }
}
