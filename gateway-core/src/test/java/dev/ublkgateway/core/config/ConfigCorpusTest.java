package dev.ublkgateway.core.config;

import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.ChainFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Malformed and hostile configuration files (src/test/resources/config-corpus) with the exact one-line
 * error each must give: overflowing sizes, YAML bombs, deep nesting, binary, control characters, bad
 * encodings. EXPECTED lists them as {@code file<TAB>message}; a file missing there fails the test.
 */
class ConfigCorpusTest {
    static final Path CORPUS = Path.of("src/test/resources/config-corpus");
    static PluginHost host;
    static ComponentTypes types;

    /** The types the CLI's validate and up see: every built-in stage, target, codec and store. */
    @BeforeAll
    static void load(@TempDir Path noPlugins) {
        host = PluginHost.load(noPlugins);
        types = new ChainFactory(host).componentTypes();
    }

    @AfterAll
    static void unload() {
        host.close();
    }

    static Map<String, String> expected() throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(CORPUS.resolve("EXPECTED"))) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int tab = line.indexOf('\t');
            m.put(line.substring(0, tab), line.substring(tab + 1));
        }
        return m;
    }

    static Stream<String> files() throws IOException {
        try (Stream<Path> s = Files.list(CORPUS)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("files")
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void eachFileGivesItsOneLineError(String file) throws IOException {
        String want = expected().get(file);
        String got;
        try {
            ConfigLoader.load(CORPUS.resolve(file), types, n -> null);
            got = "(accepted)";
        } catch (ConfigException e) {
            got = e.getMessage();
        }
        String shown = got.replace(CORPUS + "/", "");
        assertNotNull(want, "no expectation for " + file + "; it gives: " + shown);
        assertFalse(got.contains("\n") || got.contains("\tat "), "not one line: " + got);
        assertFalse(got.matches("(?s).*\\b(Exception|Error)\\b.*") && !got.contains("YAML"), "names a Java exception: " + got);
        assertEquals(want, shown);
    }

    @Test
    void everyExpectationHasItsFile() throws IOException {
        List<String> files = files().toList();
        for (String f : expected().keySet()) assertTrue(files.contains(f), "EXPECTED names " + f + ", which is missing");
    }
}
