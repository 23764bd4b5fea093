package dev.ublkgateway.core.config;

import dev.ublkgateway.api.Size;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ublkgateway.api.ConfigOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Binding options to a plugin's own config record. */
class TargetBindingTest {

    enum Mode { READ_ONLY, READ_WRITE }

    record Endpoint(String host, int port) {}

    record RemoteConfig(
            @ConfigOption(required = true) String host,
            Integer port,
            long timeoutMs,
            Size cacheSize,
            Mode mode,
            Path keyFile,
            List<String> tags,
            Endpoint fallback,
            double ratio) {

        RemoteConfig {
            if (port == null) {
                port = 10809;
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is out of range; use 1 to 65535");
            }
            if (host.equals("localhost") && mode == Mode.READ_WRITE) {
                throw new IllegalArgumentException("localhost is read-only");
            }
            if (host.equals("boom")) {
                throw new IllegalStateException("kaboom");
            }
        }
    }

    private static final ComponentTypes TYPES = ComponentTypes.builtIn().withTarget("remote", RemoteConfig.class);

    private static DeviceConfig device(String targetBody) {
        return ConfigLoader.parse("devices:\n  - name: r\n    size: 1GiB\n    target:\n      type: remote\n"
                + targetBody, "/srv/vol.yaml", TYPES).devices().getFirst();
    }

    private static String error(String targetBody) {
        ConfigException e = assertThrows(ConfigException.class, () -> device(targetBody));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage().replaceFirst("^/srv/vol.yaml", "vol.yaml");
    }

    @Test
    void bindsEveryKindOfComponent() {
        RemoteConfig c = device("""
                      host: nas.local
                      port: 10810
                      timeout-ms: 30000000000
                      cache-size: 64MiB
                      mode: read-only
                      key-file: keys/nas.key
                      tags: [fast, "backup"]
                      fallback: {host: b.local, port: 1}
                      ratio: 0.5
                """).target().config(RemoteConfig.class);
        assertEquals(new RemoteConfig("nas.local", 10810, 30_000_000_000L, Size.of(64L << 20), Mode.READ_ONLY,
                Path.of("/srv/keys/nas.key"), List.of("fast", "backup"), new Endpoint("b.local", 1), 0.5), c);
    }

    @Test
    void absentOptionsAreNullOrZeroAndDefaultsComeFromTheRecord() {
        RemoteConfig c = device("      host: nas\n").target().config(RemoteConfig.class);
        assertEquals(10809, c.port());
        assertEquals(0L, c.timeoutMs());
        assertNull(c.cacheSize());
        assertNull(c.mode());
        assertNull(c.tags());
        assertEquals(0.0, c.ratio());
    }

    @Test
    void enumsAcceptUnderscoresAndCase() {
        assertEquals(Mode.READ_WRITE, device("      host: a\n      mode: READ_WRITE\n")
                .target().config(RemoteConfig.class).mode());
    }

    @Test
    void errorsPointAtTheOption() {
        assertEquals("vol.yaml:7:13: port \"nbd\" is not an integer; use a whole number from -2147483648 to"
                + " 2147483647", error("      host: a\n      port: nbd\n"));
        assertEquals("vol.yaml:7:19: cache-size \"64MB\" is not a size; use an integer with B, KiB, MiB, GiB or"
                + " TiB, e.g. 10GiB", error("      host: a\n      cache-size: 64MB\n"));
        assertEquals("vol.yaml:7:13: mode \"read-onyl\" is not supported; did you mean \"read-only\"?"
                + " (use one of read-only, read-write)", error("      host: a\n      mode: read-onyl\n"));
        assertEquals("vol.yaml:7:13: mode \"append\" is not supported; use one of read-only, read-write",
                error("      host: a\n      mode: append\n"));
        assertEquals("vol.yaml:7:17: fallback is not a valid Endpoint (Unrecognized field \"prot\" (class"
                + " dev.ublkgateway.core.config.TargetBindingTest$Endpoint), not marked as ignorable);"
                + " check the value of fallback", error("      host: a\n      fallback: {host: b, prot: 1}\n"));
        assertEquals("vol.yaml:7:7: unknown option \"timeout\" of target type \"remote\" in device \"r\";"
                + " did you mean \"timeout-ms\"? (known: host, port, timeout-ms, cache-size, mode, key-file, tags,"
                + " fallback, ratio)", error("      host: a\n      timeout: 5\n"));
        assertEquals("vol.yaml:7:7: unknown option \"colour\" of target type \"remote\" in device \"r\";"
                + " remove it (known: host, port, timeout-ms, cache-size, mode, key-file, tags, fallback, ratio)",
                error("      host: a\n      colour: red\n"));
        assertEquals("vol.yaml:5:7: target type \"remote\" in device \"r\" needs option \"host\";"
                + " add host: <value> under target:", error("      port: 1\n"));
        assertEquals("vol.yaml:7:14: ratio \"half\" is not a number; use a number, e.g. 1.5",
                error("      host: a\n      ratio: half\n"));
    }

    @Test
    void constructorMessagesAreLocated() {
        // the message starts with an option key: at that option's value
        assertEquals("vol.yaml:7:13: port 70000 is out of range; use 1 to 65535",
                error("      host: a\n      port: 70000\n"));
        // otherwise at the target mapping, with a generic fix appended
        assertEquals("vol.yaml:5:7: localhost is read-only; check the options of target type \"remote\"",
                error("      host: localhost\n      mode: read-write\n"));
        assertEquals("vol.yaml:5:7: target type \"remote\" rejected its options (IllegalStateException: kaboom);"
                + " check the options of target type \"remote\"", error("      host: boom\n"));
    }

    @Test
    void unknownTypeListsRegisteredTypes() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                devices:
                  - {name: a, size: 1GiB, target: {type: remot}}
                """, "vol.yaml", TYPES));
        assertEquals("vol.yaml:2:42: unknown target type \"remot\"; did you mean \"remote\"?"
                + " (known: file, memory, null, remote)", e.getMessage());
    }

    @Test
    void typesMustBeRecords() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ComponentTypes(Map.of("x", Object.class), Map.of()));
        assertEquals("config class java.lang.Object of target type \"x\" is not a record", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ComponentTypes(Map.of(), Map.of("x", Object.class)));
        assertEquals("config class java.lang.Object of stage type \"x\" is not a record", e.getMessage());
    }
}
