package dev.ublkgateway.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Every error is one line: {@code file:line:column: problem; fix}. */
class ConfigErrorsTest {

    private static String error(String yaml) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(yaml, "vol.yaml", ComponentTypes.builtIn()));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals(List.of(e.getMessage()), e.problems());
        assertEquals(e.source() + ":" + e.line() + ":" + e.column() + ": " + e.detail(), e.getMessage());
        return e.getMessage();
    }

    /** Every problem of a file that has several. */
    private static List<String> problems(String yaml) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(yaml, "vol.yaml", ComponentTypes.builtIn()));
        assertEquals(String.join("\n", e.problems()), e.getMessage());
        assertEquals(e.problems().getFirst(), e.source() + ":" + e.line() + ":" + e.column() + ": " + e.detail());
        return e.problems();
    }

    private static final String SIZE_FIX = "use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB";

    // --- sizes -----------------------------------------------------------------------------

    @Test
    void badSizeUnit() {
        assertEquals("vol.yaml:4:11: size \"10Gb\" is not a size; " + SIZE_FIX, error("""
                # volumes
                devices:
                  - name: data0
                    size: 10Gb
                    target: {type: memory}
                """));
    }

    @Test
    void negativeFractionalOverflowingAndZeroSizes() {
        assertEquals("vol.yaml:3:11: size \"-1GiB\" is negative; " + SIZE_FIX, error("""
                devices:
                  - name: a
                    size: -1GiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:3:11: size \"-4096\" is negative; " + SIZE_FIX, error("""
                devices:
                  - name: a
                    size: -4096
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:3:11: size \"2.5GiB\" is not a whole number; use an integer with a smaller unit,"
                + " e.g. 2560MiB", error("""
                devices:
                  - name: a
                    size: 2.5GiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:3:11: size \"99999999999999999999\" is too large; " + SIZE_FIX
                + ", at most 8388607TiB", error("""
                devices:
                  - name: a
                    size: 99999999999999999999
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:3:11: size 0 is zero; use a positive size, e.g. 10GiB", error("""
                devices:
                  - name: a
                    size: 0
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:5: size is a list, not a size; " + SIZE_FIX, error("""
                devices:
                  - name: a
                    size:
                    - 1
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:3:10: size is empty, not a size; " + SIZE_FIX, error("""
                devices:
                  - name: a
                    size:
                    target: {type: memory}
                """));
    }

    @Test
    void sizeNotAMultipleOfTheBlockSize() {
        assertEquals("vol.yaml:3:11: size 10000 is not a multiple of block-size 4096;"
                + " use a multiple, e.g. 8KiB or 12KiB", error("""
                devices:
                  - name: a
                    size: 10000
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:3:11: size \"1000B\" is not a multiple of block-size 512;"
                + " use a multiple, e.g. 512 or 1KiB", error("""
                devices:
                  - name: a
                    size: 1000B
                    block-size: 512
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:1:27: size 100 is not a multiple of block-size 4096;"
                + " use a multiple, e.g. 4KiB", error("""
                devices: [{name: a, size: 100, target: {type: null}}]
                """));
    }

    // --- unknown keys, missing fields, wrong types --------------------------------------------

    @Test
    void unknownDeviceKeySuggestsTheClosest() {
        assertEquals("vol.yaml:6:5: unknown key \"depht\" in device \"data0\"; did you mean \"depth\"?"
                + " (known: name, size, block-size, queues, depth, max-io-size, recovery, stages, target, script, frontend, nbd-listen, nbd-max-connections, poll-us, zero-copy, batch-io, tls, tls-certificates, tls-verify-peer, tls-psk)", error("""
                devices:
                  - name: data0
                    size: 10GiB
                    target:
                      type: memory
                    depht: 64
                """));
        // the device lacks name and target too: all three are reported, in file order
        assertEquals(List.of(
                "vol.yaml:2:5: device #1 has no \"name\"; add name: <name>, e.g. name: data0",
                "vol.yaml:2:5: device #1 has no \"target\"; add target: with type: and the target's options,"
                        + " e.g. target: {type: memory}",
                "vol.yaml:3:5: unknown key \"colour\" in device #1; remove it"
                        + " (known: name, size, block-size, queues, depth, max-io-size, recovery, stages, target, script, frontend, nbd-listen, nbd-max-connections, poll-us, zero-copy, batch-io, tls, tls-certificates, tls-verify-peer, tls-psk)"),
                problems("""
                devices:
                  - size: 10GiB
                    colour: blue
                """));
        assertEquals("vol.yaml:3:5: unknown key \"blockSize\" in device \"a\"; did you mean \"block-size\"?"
                + " (known: name, size, block-size, queues, depth, max-io-size, recovery, stages, target, script, frontend, nbd-listen, nbd-max-connections, poll-us, zero-copy, batch-io, tls, tls-certificates, tls-verify-peer, tls-psk)", error("""
                devices:
                  - name: a
                    blockSize: 512
                    size: 1GiB
                    target: {type: memory}
                """));
    }

    @Test
    void missingRequiredDeviceFields() {
        assertEquals("vol.yaml:2:5: device #1 has no \"name\"; add name: <name>, e.g. name: data0", error("""
                devices:
                  - size: 1GiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:3:5: device \"b\" has no \"size\"; add size: <size>, e.g. size: 10GiB", error("""
                devices:
                  - {name: a, size: 4KiB, target: {type: null}}
                  - name: b
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:2:5: device \"a\" has no \"target\"; add target: with type: and the target's"
                + " options, e.g. target: {type: memory}", error("""
                devices:
                  - name: a
                    size: 1GiB
                """));
    }

    @Test
    void wrongTypes() {
        assertEquals("vol.yaml:4:13: queues \"two\" is not an integer; use a whole number from 1 to 64", error("""
                devices:
                  - name: a
                    size: 1GiB
                    queues: two
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:13: queues 1.5 is not an integer; use a whole number from 1 to 64", error("""
                devices:
                  - name: a
                    size: 1GiB
                    queues: 1.5
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:15: recovery \"maybe\" is not true or false; use true or false", error("""
                devices:
                  - name: a
                    size: 1GiB
                    recovery: maybe
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:15: batch-io \"often\" is not true or false; use true or false", error("""
                devices:
                  - name: a
                    size: 1GiB
                    batch-io: often
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:2:11: name is a mapping, not a string; use 1 to 32 characters of a-z, 0-9,"
                + " '.', '_' and '-', starting with a letter or digit", error("""
                devices:
                  - name: {first: a}
                    size: 1GiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:13: target \"memory\" is not a mapping; write target: as a mapping with type:"
                + " and the target's options", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target: memory
                """));
    }

    @Test
    void outOfRangeValues() {
        assertEquals("vol.yaml:4:13: queues 65 is out of range; use a whole number from 1 to 64", error("""
                devices:
                  - name: a
                    size: 1GiB
                    queues: 65
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:12: depth 0 is out of range; use a whole number from 1 to 4096", error("""
                devices:
                  - name: a
                    size: 1GiB
                    depth: 0
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:17: block-size 1000 is not supported; use 512, 1024, 2048 or 4096", error("""
                devices:
                  - name: a
                    size: 1GiB
                    block-size: 1000
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:17: block-size \"8KiB\" is not supported; use 512, 1024, 2048 or 4096", error("""
                devices:
                  - name: a
                    size: 1GiB
                    block-size: 8KiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:18: max-io-size \"100KiB\" is not a power of two from 4KiB to 32MiB;"
                + " use e.g. 512KiB", error("""
                devices:
                  - name: a
                    size: 1GiB
                    max-io-size: 100KiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:18: max-io-size \"64MiB\" is not a power of two from 4KiB to 32MiB;"
                + " use e.g. 512KiB", error("""
                devices:
                  - name: a
                    size: 1GiB
                    max-io-size: 64MiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:4:14: poll-us 20000 is out of range; use a whole number from 0 to 10000", error("""
                devices:
                  - name: a
                    size: 1GiB
                    poll-us: 20000
                    target: {type: memory}
                """));
    }

    @Test
    void invalidAndDuplicateNames() {
        assertEquals("vol.yaml:2:11: device name \"Data0\" is invalid; use 1 to 32 characters of a-z, 0-9,"
                + " '.', '_' and '-', starting with a letter or digit", error("""
                devices:
                  - name: Data0
                    size: 1GiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:2:11: device name \"-a\" is invalid; use 1 to 32 characters of a-z, 0-9,"
                + " '.', '_' and '-', starting with a letter or digit", error("""
                devices:
                  - name: "-a"
                    size: 1GiB
                    target: {type: memory}
                """));
        assertEquals("vol.yaml:2:11: device name \"" + "a".repeat(33) + "\" is invalid; use 1 to 32 characters"
                + " of a-z, 0-9, '.', '_' and '-', starting with a letter or digit", error(
                "devices:\n  - name: " + "a".repeat(33) + "\n    size: 1GiB\n    target: {type: memory}\n"));
        assertEquals("vol.yaml:6:11: duplicate device name \"data0\" (first at line 2); give each device a"
                + " unique name", error("""
                devices:
                  - name: data0
                    size: 1GiB
                    target: {type: memory}
                  - size: 2GiB
                    name: data0
                    target: {type: null}
                """));
    }

    // --- targets -------------------------------------------------------------------------------

    @Test
    void unknownTargetType() {
        assertEquals("vol.yaml:5:13: unknown target type \"fiel\"; did you mean \"file\"?"
                + " (known: file, memory, null)", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: fiel
                      path: /x
                """));
        assertEquals("vol.yaml:4:20: unknown target type \"nbd\"; known: file, memory, null", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target: {type: nbd}
                """));
    }

    @Test
    void targetWithoutType() {
        assertEquals("vol.yaml:5:7: the target of device \"a\" has no \"type\"; add type: <type>, one of file,"
                + " memory, null", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      path: /x
                """));
    }

    @Test
    void unknownTargetOption() {
        assertEquals("vol.yaml:7:7: unknown option \"dirct\" of target type \"file\" in device \"a\";"
                + " did you mean \"direct\"? (known: path, direct, sync, create)", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: file
                      path: /x
                      dirct: true
                """));
        assertEquals("vol.yaml:6:7: unknown option \"size\" of target type \"memory\" in device \"a\";"
                + " remove it (target type \"memory\" takes no options)", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: memory
                      size: 1GiB
                """));
    }

    @Test
    void wrongTargetOptionTypes() {
        assertEquals("vol.yaml:7:15: direct \"yes please\" is not true or false; use true or false", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: file
                      path: /x
                      direct: yes please
                """));
        assertEquals("vol.yaml:6:13: path is a list, not a string; use a file path, absolute or relative to"
                + " the configuration file", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: file
                      path: [a, b]
                """));
    }

    @Test
    void missingRequiredTargetOption() {
        assertEquals("vol.yaml:5:7: target type \"file\" in device \"a\" needs option \"path\";"
                + " add path: <value> under target:", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: file
                      direct: true
                """));
    }

    @Test
    void constructorRejectionIsReportedAtTheNamedOption() {
        assertEquals("vol.yaml:7:13: sync \"sometimes\" is not supported; use fdatasync or fsync", error("""
                devices:
                  - name: a
                    size: 1GiB
                    target:
                      type: file
                      path: /x
                      sync: sometimes
                """));
    }

    // --- file structure ----------------------------------------------------------------------

    @Test
    void emptyFiles() {
        String empty = "vol.yaml:1:1: the file is empty; declare the devices under a top-level \"devices:\" list";
        assertEquals(empty, error(""));
        assertEquals(empty, error("# nothing here\n\n"));
        assertEquals(empty, error("---\n"));
    }

    @Test
    void topLevelMustBeAMappingWithDevices() {
        assertEquals("vol.yaml:1:1: the top level is a list, not a mapping; start the file with \"devices:\""
                + " and list the devices under it", error("""
                - name: a
                  size: 1GiB
                """));
        assertEquals("vol.yaml:2:1: the top level is \"hello\", not a mapping; start the file with"
                + " \"devices:\" and list the devices under it", error("# greeting\nhello\n"));
        assertEquals("vol.yaml:1:1: unknown top-level key \"device\"; did you mean \"devices\"? (known: devices, log-level, metrics-listen)",
                error("""
                device:
                  - name: a
                """));
        assertEquals("vol.yaml:2:1: unknown top-level key \"volumes\"; remove it or prefix it with x-"
                + " (known: devices, log-level, metrics-listen)", error("""
                x-note: ignored
                volumes: []
                """));
        assertEquals("vol.yaml:1:1: no \"devices\" key; list the devices under a top-level \"devices:\"",
                error("x-only: 1\n"));
    }

    @Test
    void devicesMustBeANonEmptyListOfMappings() {
        assertEquals("vol.yaml:1:1: no devices are declared; add at least one device under \"devices:\"",
                error("devices:\n"));
        assertEquals("vol.yaml:1:10: no devices are declared; add at least one device under \"devices:\"",
                error("devices: []\n"));
        assertEquals("vol.yaml:2:3: devices is a mapping, not a list; list the devices under \"devices:\","
                + " each starting with \"- name:\"", error("""
                devices:
                  name: a
                  size: 1GiB
                """));
        assertEquals("vol.yaml:3:5: device #2 is \"data1\", not a mapping; write each device as a mapping with"
                + " name:, size: and target:", error("""
                devices:
                  - {name: a, size: 4KiB, target: {type: null}}
                  - data1
                """));
    }

    @Test
    void yamlSyntaxErrors() {
        assertEquals("vol.yaml:3:4: YAML syntax error: expected <block end>, but found '<block mapping start>'"
                + " (while parsing a block collection from line 2, column 3); check the indentation and quoting at this position",
                error("""
                devices:
                  - name: a
                   size: 3
                """));
        assertEquals("vol.yaml:2:12: YAML syntax error: mapping values are not allowed here; put a space after"
                + " each \":\" and quote values that contain \": \"", error("""
                devices:
                  - name: a: b
                """));
        assertEquals("vol.yaml:2:1: YAML syntax error: found character '\\t(TAB)' that cannot start any token."
                + " (Do not use \\t(TAB) for indentation) (while scanning for the next token); indent with"
                + " spaces, not tabs", error("devices:\n\t- name: a\n"));
        assertEquals("vol.yaml:3:1: YAML syntax error: expected ',' or '}', but got <stream end>"
                + " (while parsing a flow mapping from line 2, column 5); check the indentation and quoting at this position",
                error("devices:\n  - {name: a, size: 1GiB\n"));
        assertEquals("vol.yaml:2:8: a mapping key is a mapping or a list; use a plain name as the key",
                error("devices:\n  - ? {a: 1}\n    : x\n"));
    }

    @Test
    void duplicateKeysAndMultipleDocuments() {
        assertEquals("vol.yaml:4:5: duplicate key \"size\" (first at line 3); keep only one", error("""
                devices:
                  - name: a
                    size: 1GiB
                    size: 2GiB
                """));
        assertEquals("vol.yaml:3:1: the file holds more than one YAML document; keep only one"
                + " (remove the extra \"---\")", error("""
                devices: []
                ---
                devices: []
                """));
    }

    @Test
    void aliasToAnUnknownAnchor() {
        assertEquals("vol.yaml:4:11: unknown anchor in alias *big; define it first with &big on a mapping or"
                + " list (anchors on single values are not supported)", error("""
                x-size: &big 1GiB
                devices:
                  - name: a
                    size: *big
                    target: {type: null}
                """));
    }
}
