package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.core.config.ComponentTypes;
import dev.ublkgateway.core.config.ConfigException;
import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static dev.ublkgateway.core.stages.script.ScriptTestSupport.write;
import static org.junit.jupiter.api.Assertions.*;

/** {@code script:} in YAML: on a device, at the top level, as a stage; and its problems at validate. */
class ScriptConfigTest {
    static final ComponentTypes TYPES = ComponentTypes.builtIn().withStage("script", ScriptStageConfig.class)
            .withStage("stats", dev.ublkgateway.core.stages.StatsConfig.class);

    @TempDir
    Path dir;

    private GatewayConfig load(String yaml) throws IOException {
        return ConfigLoader.load(write(dir, "vol.yaml", yaml), TYPES);
    }

    @Test
    void deviceScriptBecomesTheFirstStage() throws IOException {
        write(dir, "p.js", "export function onRequest(r) {}\n");
        GatewayConfig c = load("""
                devices:
                  - name: a
                    size: 1GiB
                    script: p.js
                    stages:
                      - type: stats
                    target: {type: null}
                """);
        DeviceConfig d = c.devices().getFirst();
        assertEquals("script", d.stages().getFirst().type());
        ScriptStageConfig sc = d.stages().getFirst().config(ScriptStageConfig.class);
        assertEquals(dir.resolve("p.js"), sc.path());
        assertEquals("closed", sc.fail());
        assertEquals(50, sc.timeoutMs());
        assertEquals("stats", d.stages().get(1).type());
    }

    @Test
    void topLevelScriptAppliesToDevicesWithoutTheirOwn() throws IOException {
        write(dir, "all.js", "export function onRequest(r) {}\n");
        write(dir, "own.js", "export function onTick(s) {}\n");
        GatewayConfig c = load("""
                script: {path: all.js, fail: open, timeout-ms: 5, tick-ms: 250}
                devices:
                  - name: a
                    size: 1GiB
                    target: {type: null}
                  - name: b
                    size: 1GiB
                    script: own.js
                    target: {type: null}
                """);
        ScriptStageConfig a = c.devices().get(0).stages().getFirst().config(ScriptStageConfig.class);
        assertEquals(dir.resolve("all.js"), a.path());
        assertEquals("open", a.fail());
        assertEquals(5, a.timeoutMs());
        assertEquals(250, a.tickMs());
        assertEquals(dir.resolve("own.js"), c.devices().get(1).stages().getFirst().config(ScriptStageConfig.class).path());
    }

    @Test
    void noScriptNoStage() throws IOException {
        GatewayConfig c = load("""
                devices:
                  - name: a
                    size: 1GiB
                    target: {type: null}
                """);
        assertTrue(c.devices().getFirst().stages().isEmpty());
    }

    @Test
    void syntaxErrorIsReportedWithTheScriptsPositionAndTheYamlLine() throws IOException {
        write(dir, "bad.js", "export function onRequest(r) {\n  return gateway.deny('EPERM'\n}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> load("""
                devices:
                  - name: a
                    size: 1GiB
                    script: bad.js
                    target: {type: null}
                """));
        assertEquals(1, e.problems().size(), e.getMessage());
        String line = e.problems().getFirst();
        assertTrue(line.matches(".*vol\\.yaml:4:13: path: .*bad\\.js:3:1: syntax error: .*; fix the syntax"), line);
    }

    @Test
    void everyProblemIsOneLine() throws IOException {
        write(dir, "none.js", "export const x = 1;\n");
        ConfigException e = assertThrows(ConfigException.class, () -> load("""
                devices:
                  - name: a
                    size: 1GiB
                    script: {path: none.js, fail: maybe, tick-ms: 1}
                    target: {type: null}
                  - name: b
                    size: 1GiB
                    script: missing.js
                    target: {type: null}
                """));
        assertEquals(2, e.problems().size(), e.getMessage());
        assertTrue(e.problems().get(0).contains("fail \"maybe\" is not closed or open"), e.problems().get(0));
        assertTrue(e.problems().get(1).contains("missing.js: cannot read the script (no such file)"), e.problems().get(1));
    }

    @Test
    void missingExportsAreReported() throws IOException {
        write(dir, "none.js", "export const x = 1;\n");
        ConfigException e = assertThrows(ConfigException.class, () -> load("""
                script: none.js
                devices:
                  - name: a
                    size: 1GiB
                    target: {type: null}
                """));
        assertTrue(e.getMessage().matches("(?s).*vol\\.yaml:1:9: path: .*none\\.js:1:1: the script exports no hook.*"),
                e.getMessage());
    }
}
