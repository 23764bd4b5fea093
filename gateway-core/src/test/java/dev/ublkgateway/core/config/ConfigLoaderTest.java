package dev.ublkgateway.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ublkgateway.api.ConfigOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final ComponentTypes TYPES = ComponentTypes.builtIn();

    private static GatewayConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, "/etc/ublk/vol.yaml", TYPES);
    }

    @Test
    void fullDevice() {
        GatewayConfig c = parse("""
                devices:
                  - name: data0
                    size: 10GiB
                    block-size: 512
                    queues: 2
                    depth: 256
                    max-io-size: 1MiB
                    recovery: true
                    target:
                      type: file
                      path: /var/lib/x.img
                      direct: true
                      sync: fsync
                      create: true
                """);
        assertEquals(Path.of("/etc/ublk/vol.yaml"), c.source());
        assertEquals(1, c.devices().size());
        DeviceConfig d = c.devices().getFirst();
        assertEquals("data0", d.name());
        assertEquals(10L << 30, d.sizeBytes());
        assertEquals(512, d.blockSize());
        assertEquals(2, d.queues());
        assertEquals(256, d.depth());
        assertEquals(1 << 20, d.maxIoBytes());
        assertTrue(d.recovery());
        assertEquals((10L << 30) / 512, d.blocks());

        ComponentSpec t = d.target();
        assertEquals("file", t.type());
        assertEquals(10, t.line()); // the mapping's first key
        assertEquals(7, t.column());
        assertEquals("/var/lib/x.img", t.options().get("path").asText());
        assertFalse(t.options().has("type"));
        assertTrue(t.isBound());
        FileTargetConfig f = t.config(FileTargetConfig.class);
        assertEquals(new FileTargetConfig("/var/lib/x.img", true, "fsync", true), f);
        assertTrue(f.useFsync());
    }

    @Test
    void defaults() {
        DeviceConfig d = parse("""
                devices:
                  - name: m
                    size: 1GiB
                    target: {type: file, path: /x.img}
                """).devices().getFirst();
        assertEquals(DeviceConfig.DEFAULT_BLOCK_SIZE, d.blockSize());
        assertEquals(4096, d.blockSize());
        assertEquals(1, d.queues());
        assertEquals(128, d.depth());
        assertEquals(512 * 1024, d.maxIoBytes());
        assertFalse(d.recovery());
        FileTargetConfig f = d.target().config(FileTargetConfig.class);
        assertFalse(f.direct());
        assertEquals("fdatasync", f.sync());
        assertFalse(f.create());
        assertFalse(f.useFsync());
    }

    @Test
    void multipleDevicesKeepFileOrder() {
        GatewayConfig c = parse("""
                devices:
                  - name: zeta
                    size: 1MiB
                    target: {type: null}
                  - name: alpha.1
                    size: 8 MiB
                    target:
                      type: memory
                  - name: b_2-x
                    size: 4096
                    block-size: 4KiB
                    target: {type: file, path: b.img}
                """);
        assertEquals(List.of("zeta", "alpha.1", "b_2-x"), c.devices().stream().map(DeviceConfig::name).toList());
        assertInstanceOf(NullTargetConfig.class, c.devices().get(0).target().config());
        assertInstanceOf(MemoryTargetConfig.class, c.devices().get(1).target().config());
        assertEquals(8L << 20, c.device("alpha.1").orElseThrow().sizeBytes());
        assertEquals(4096, c.device("b_2-x").orElseThrow().sizeBytes());
        assertTrue(c.device("nope").isEmpty());
    }

    @Test
    void sizesAsIntegersAndUnits() {
        GatewayConfig c = parse("""
                devices:
                  - {name: a, size: 1073741824, target: {type: null}}
                  - {name: b, size: 1 GiB, target: {type: null}}
                  - {name: c, size: 1G, target: {type: null}}
                  - {name: d, size: "1048576K", target: {type: null}}
                  - {name: e, size: 0x40000000, target: {type: null}}
                """);
        for (DeviceConfig d : c.devices()) {
            assertEquals(1L << 30, d.sizeBytes(), d.name());
        }
    }

    @Test
    void relativePathsResolveAgainstTheFilesDirectory() {
        GatewayConfig c = parse("""
                devices:
                  - {name: a, size: 1MiB, target: {type: file, path: data/a.img}}
                  - {name: b, size: 1MiB, target: {type: file, path: ../b.img}}
                  - {name: c, size: 1MiB, target: {type: file, path: /abs/c.img}}
                  - {name: d, size: 1MiB, target: {type: file, path: ./d.img}}
                """);
        assertEquals("/etc/ublk/data/a.img", c.devices().get(0).target().config(FileTargetConfig.class).path());
        assertEquals("/etc/b.img", c.devices().get(1).target().config(FileTargetConfig.class).path());
        assertEquals("/abs/c.img", c.devices().get(2).target().config(FileTargetConfig.class).path());
        assertEquals(Path.of("/etc/ublk/d.img"), c.devices().get(3).target().config(FileTargetConfig.class).file());
        // the raw options keep what was written
        assertEquals("data/a.img", c.devices().get(0).target().options().get("path").asText());
    }

    @Test
    void loadsFromAFileAndResolvesNextToIt(@TempDir Path dir) throws Exception {
        Path sub = Files.createDirectories(dir.resolve("conf"));
        Path file = sub.resolve("vol.yaml");
        Files.writeString(file, """
                devices:
                  - name: data0
                    size: 64MiB
                    target:
                      type: file
                      path: images/data0.img
                """, StandardCharsets.UTF_8);
        GatewayConfig c = ConfigLoader.load(file, TYPES);
        assertEquals(file.toAbsolutePath().normalize(), c.source());
        assertEquals(sub.resolve("images/data0.img").toString(),
                c.devices().getFirst().target().config(FileTargetConfig.class).path());
    }

    @Test
    void missingFileIsAOneLineConfigException(@TempDir Path dir) {
        Path file = dir.resolve("none.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, TYPES));
        assertEquals(file + ": cannot read the file (no such file); check the path", e.getMessage());
        assertEquals(0, e.line());
    }

    @Test
    void notUtf8(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, new byte[] {'d', 'e', 'v', ':', ' ', (byte) 0xe9, '\n'});
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, TYPES));
        assertEquals(file + ": the file is not valid UTF-8; save it as UTF-8", e.getMessage());
    }

    @Test
    void anchorsAndMergeKeysShareSettings() {
        GatewayConfig c = parse("""
                x-defaults: &defaults
                  size: 1GiB
                  queues: 4
                  target: {type: memory}
                devices:
                  - <<: *defaults
                    name: a
                  - <<: *defaults
                    name: b
                    queues: 2
                """);
        assertEquals(4, c.device("a").orElseThrow().queues());
        assertEquals(2, c.device("b").orElseThrow().queues());
        assertEquals(1L << 30, c.device("b").orElseThrow().sizeBytes());
    }

    @Test
    void byteOrderMarkAndCommentsAreFine() {
        GatewayConfig c = parse("\uFEFF# devices\ndevices: # list\n  - {name: a, size: 4KiB, target: {type: null}} # one\n");
        assertEquals(4096, c.devices().getFirst().sizeBytes());
    }

    @Test
    void componentSpecCopiesItsOptions() {
        ComponentSpec t = parse("""
                devices:
                  - {name: a, size: 4KiB, target: {type: file, path: /a}}
                """).devices().getFirst().target();
        t.options().put("path", "/changed");
        assertEquals("/a", t.options().get("path").asText());
        ComponentSpec unbound = new ComponentSpec(ComponentSpec.TARGET, "file", t.options(), t.line(), t.column());
        assertFalse(unbound.isBound());
        assertThrows(IllegalStateException.class, () -> unbound.config(FileTargetConfig.class));
        assertThrows(IllegalStateException.class, () -> t.config(MemoryTargetConfig.class));
        assertEquals(t, unbound.withConfig(t.config()));
    }

    @Test
    void recordsValidateWhenBuiltInCode() {
        ComponentSpec t = new ComponentSpec(ComponentSpec.TARGET, "null", com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(),
                1, 1, new NullTargetConfig());
        assertThrows(IllegalArgumentException.class, () -> new DeviceConfig("a", 1000, 4096, 1, 1, 4096, false, t));
        assertThrows(IllegalArgumentException.class, () -> new DeviceConfig("A", 4096, 4096, 1, 1, 4096, false, t));
        DeviceConfig ok = new DeviceConfig("a", 4096, 4096, 1, 1, 4096, false, t);
        assertThrows(IllegalArgumentException.class, () -> new GatewayConfig(Path.of("/x"), List.of(ok, ok)));
        assertThrows(IllegalArgumentException.class, () -> new FileTargetConfig("/x", false, "sync", false));
    }

    @Test
    void componentTypesRegistry() {
        ComponentTypes t = ComponentTypes.builtIn();
        assertEquals(List.of("file", "memory", "null"), List.copyOf(t.targetNames()));
        assertTrue(t.stageNames().isEmpty());
        assertEquals(FileTargetConfig.class, t.targetClass("file").orElseThrow());
        assertTrue(t.targetClass("nbd").isEmpty());
        assertTrue(t.stageClass("file").isEmpty());
        record Nbd(String host) {}
        record Stats() {}
        ComponentTypes more = t.withTarget("nbd", Nbd.class).withStage("stats", Stats.class);
        assertEquals(List.of("file", "memory", "nbd", "null"), List.copyOf(more.targetNames()));
        assertEquals(List.of("stats"), List.copyOf(more.stageNames()));
        assertEquals(Stats.class, more.stageClass("stats").orElseThrow());
        assertTrue(more.targetClass("stats").isEmpty());
        assertTrue(t.stageNames().isEmpty()); // copies
        assertNull(more.ordering().problem("stats", "file"));

        ComponentTypes.OrderingRule last = (stage, next) -> stage.equals("stats") ? "stats goes last" : null;
        ComponentTypes.OrderingRule never = (stage, next) -> next.equals("null") ? "nothing to pass on" : null;
        ComponentTypes ruled = more.withOrderingRule(last).withOrderingRule(never);
        assertEquals("stats goes last", ruled.ordering().problem("stats", "null"));
        assertEquals("nothing to pass on", ruled.ordering().problem("other", "null"));
        assertNull(ruled.ordering().problem("other", "file"));

        assertThrows(IllegalArgumentException.class, () -> t.withStage("Bad Name", Stats.class));
    }

    @Test
    void configOptionMisuseIsRejectedWhenRegistering() {
        record SecretInt(@ConfigOption(secret = true) int pin) {}
        record SecretPath(@ConfigOption(secret = true, path = true) String key) {}
        record PathInt(@ConfigOption(path = true) int x) {}
        record Fine(@ConfigOption(secret = true) String key, @ConfigOption(path = true) Path p) {}
        ComponentTypes t = ComponentTypes.builtIn();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> t.withTarget("a", SecretInt.class))
                .getMessage().endsWith("is marked secret but is not a String"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> t.withStage("a", SecretPath.class))
                .getMessage().contains("is marked both secret and path"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> t.withStage("a", PathInt.class))
                .getMessage().endsWith("is marked path but is not a String or Path"));
        assertEquals(Fine.class, t.withStage("a", Fine.class).stageClass("a").orElseThrow());
    }

    @Test
    void devicesWithoutStagesHaveAnEmptyList() {
        DeviceConfig d = parse("devices: [{name: a, size: 4KiB, target: {type: null}}]\n").devices().getFirst();
        assertEquals(List.of(), d.stages());
        assertEquals(List.of(), parse("devices: [{name: a, size: 4KiB, stages: [], target: {type: null}}]\n")
                .devices().getFirst().stages());
        assertEquals(List.of(), parse("devices: [{name: a, size: 4KiB, stages: , target: {type: null}}]\n")
                .devices().getFirst().stages());
        assertEquals(d, new DeviceConfig("a", 4096, 4096, 1, 128, 512 * 1024, false, d.target(), null));
    }

    /** The targets-only registry still works for existing callers. */
    @Test
    @SuppressWarnings("deprecation")
    void targetTypesRegistry() {
        TargetTypes t = TargetTypes.builtIn();
        assertEquals(List.of("file", "memory", "null"), List.copyOf(t.names()));
        assertEquals(FileTargetConfig.class, t.configClass("file").orElseThrow());
        assertTrue(t.configClass("nbd").isEmpty());
        record Nbd(String host) {}
        assertEquals(List.of("file", "memory", "nbd", "null"), List.copyOf(t.with("nbd", Nbd.class).names()));
        assertThrows(IllegalArgumentException.class, () -> new TargetTypes(java.util.Map.of("x", String.class)));
        assertThrows(IllegalArgumentException.class, () -> new TargetTypes(java.util.Map.of("Bad Name", Nbd.class)));
        assertEquals(t.types(), t.toComponentTypes().targets());
        GatewayConfig c = ConfigLoader.parse("devices: [{name: a, size: 4KiB, target: {type: nbd, host: h}}]\n",
                "vol.yaml", t.with("nbd", Nbd.class));
        assertEquals(new Nbd("h"), c.devices().getFirst().target().config());
    }
}
