package dev.ublkgateway.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** All problems of a file are reported together, in file order, each on its own line. */
class ConfigProblemsTest {

    private static ConfigException failure(String yaml) {
        return assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(yaml, "vol.yaml", ComponentTypes.builtIn()));
    }

    private static List<String> problems(String yaml) {
        return failure(yaml).problems();
    }

    @Test
    void problemsInSeveralDevicesAreReportedTogether() {
        ConfigException e = failure("""
                devices:
                  - name: data0
                    size: 10Gb
                    queues: 65
                    target: {type: memory}
                  - name: data1
                    size: 1GiB
                    depht: 64
                    target:
                      type: fiel
                  - name: data2
                    size: 1GiB
                    recovery: maybe
                    target:
                      type: file
                      direct: yes please
                      sync: sometimes
                  - name: data0
                    size: 4KiB
                    target: {type: null}
                """);
        List<String> expected = List.of(
                "vol.yaml:3:11: size \"10Gb\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
                "vol.yaml:4:13: queues 65 is out of range; use a whole number from 1 to 64",
                "vol.yaml:8:5: unknown key \"depht\" in device \"data1\"; did you mean \"depth\"? (known: name, size,"
                        + " block-size, queues, depth, max-io-size, recovery, stages, target, script, frontend, nbd-listen, nbd-max-connections, poll-us, zero-copy, batch-io, tls, tls-certificates, tls-verify-peer, tls-psk)",
                "vol.yaml:10:13: unknown target type \"fiel\"; did you mean \"file\"? (known: file, memory, null)",
                "vol.yaml:13:15: recovery \"maybe\" is not true or false; use true or false",
                "vol.yaml:15:7: target type \"file\" in device \"data2\" needs option \"path\"; add path: <value>"
                        + " under target:",
                "vol.yaml:16:15: direct \"yes please\" is not true or false; use true or false",
                "vol.yaml:18:11: duplicate device name \"data0\" (first at line 2); give each device a unique name");
        assertEquals(expected, e.problems());
        assertEquals(String.join("\n", expected), e.getMessage());
        // the accessors describe the first problem
        assertEquals("vol.yaml", e.source());
        assertEquals(3, e.line());
        assertEquals(11, e.column());
        assertEquals("size \"10Gb\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
                e.detail());
    }

    @Test
    void unknownTopLevelKeysAndDeviceProblemsTogether() {
        assertEquals(List.of(
                "vol.yaml:1:1: unknown top-level key \"defaults\"; remove it or prefix it with x- (known: devices, log-level, metrics-listen)",
                "vol.yaml:4:5: device \"a\" has no \"size\"; add size: <size>, e.g. size: 10GiB",
                "vol.yaml:6:5: device #2 is \"b\", not a mapping; write each device as a mapping with name:, size:"
                        + " and target:"), problems("""
                defaults: {}
                x-ok: 1
                devices:
                  - name: a
                    target: {type: null}
                  - b
                """));
    }

    @Test
    void problemsThatFollowFromAnotherAreNotReported() {
        // an unsupported block-size is not used to check the size
        assertEquals(List.of("vol.yaml:4:17: block-size 1000 is not supported; use 512, 1024, 2048 or 4096"),
                problems("""
                devices:
                  - name: a
                    size: 10000
                    block-size: 1000
                    target: {type: memory}
                """));
        // an unknown target type has no options to check
        assertEquals(List.of("vol.yaml:5:13: unknown target type \"nbd\"; known: file, memory, null"), problems("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: nbd
                      host: x
                      port: 1
                """));
        // the constructor is not run on options that failed already
        assertEquals(List.of("vol.yaml:6:13: path is a list, not a string; use a file path, absolute or relative to"
                + " the configuration file"), problems("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: file
                      path: [a, b]
                      sync: fsync
                """));
        // a misspelt "devices" is not also reported as missing
        assertEquals(List.of("vol.yaml:1:1: unknown top-level key \"devics\"; did you mean \"devices\"?"
                + " (known: devices, log-level, metrics-listen)"), problems("devics: []\n"));
    }

    @Test
    void aProblemMergedIntoSeveralDevicesIsReportedOnce() {
        assertEquals(List.of("vol.yaml:3:11: queues \"many\" is not an integer; use a whole number from 1 to 64"),
                problems("""
                x-defaults: &defaults
                  size: 1GiB
                  queues: many
                  target: {type: memory}
                devices:
                  - {<<: *defaults, name: a}
                  - {<<: *defaults, name: b}
                """));
    }

    @Test
    void everyOptionProblemOfATargetIsReported() {
        // the constructor does not run (its check of sync would be reported at 8:13) while other options fail
        assertEquals(List.of(
                "vol.yaml:6:7: unknown option \"dirct\" of target type \"file\" in device \"a\"; did you mean"
                        + " \"direct\"? (known: path, direct, sync, create)",
                "vol.yaml:7:7: unknown option \"colour\" of target type \"file\" in device \"a\"; remove it"
                        + " (known: path, direct, sync, create)",
                "vol.yaml:9:15: create 1 is not true or false; use true or false"), problems("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      path: /x
                      dirct: true
                      colour: red
                      sync: sometimes
                      create: 1
                      type: file
                """));
    }

    @Test
    void syntaxErrorsStopAtTheFirst() {
        ConfigException e = failure("devices:\n  - name: a: b\n  - name: c: d\n");
        assertEquals(1, e.problems().size());
        assertEquals(List.of(e.getMessage()), e.problems());
    }

    @Test
    void combiningSortsByPositionAndDropsRepeats() {
        ConfigException a = new ConfigException("f.yaml", 3, 1, "third; fix");
        ConfigException b = new ConfigException("f.yaml", 1, 9, "first; fix");
        ConfigException c = new ConfigException("f.yaml", 2, 4, "second; fix");
        ConfigException all = ConfigException.of(List.of(a, b, c, a));
        assertEquals(List.of("f.yaml:1:9: first; fix", "f.yaml:2:4: second; fix", "f.yaml:3:1: third; fix"),
                all.problems());
        assertEquals("f.yaml:1:9: first; fix\nf.yaml:2:4: second; fix\nf.yaml:3:1: third; fix", all.getMessage());
        assertEquals(1, all.line());
        assertEquals("first; fix", all.detail());
        assertSame(a, ConfigException.of(List.of(a)));
        assertSame(a, ConfigException.of(List.of(a, a)));
        assertThrows(IllegalArgumentException.class, () -> ConfigException.of(List.of()));
        assertEquals(List.of("f.yaml: no such file; check"), new ConfigException("f.yaml", 0, 0, "no such file; check")
                .problems());
    }
}
