package dev.ublkgateway.core.plugins;

import dev.ublkgateway.core.cli.Main;
import dev.ublkgateway.core.testing.ConsoleCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** `plugins install` and `plugins list` as a user sees them: exit codes and the lines they print. */
class PluginsCliTest {
    @TempDir
    Path tmp;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @BeforeEach
    void capture() throws Exception {
        System.setProperty("ublkgw.bundled.plugins", Corpus.bundled().orElseThrow().toString());
    }

    @AfterEach
    void restore() {
        System.clearProperty("ublkgw.bundled.plugins");
    }

    private int run(String... args) {
        console.reset();
        return Main.run(args);
    }

    @Test
    void aBundledPluginsIdIsRefusedAtInstallAndListedWhenDroppedInByHand() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path enc = Corpus.jar(tmp.resolve("enc.jar"), "encryption", null, "corpus.Stage");
        assertEquals(1, run("--plugins-dir", plugins.toString(), "plugins", "install", enc.toString()));
        assertEquals(List.of("ublk-gateway: plugin encryption (enc.jar) cannot be used: id \"encryption\" belongs to a plugin "
                + "that ships with ublk-gateway; choose another Plugin-Id"), console.errLines());
        assertFalse(Files.exists(plugins));

        Files.createDirectories(plugins);
        Files.copy(enc, plugins.resolve("enc.jar"));
        assertEquals(0, run("--plugins-dir", plugins.toString(), "plugins", "list"));
        List<String> rows = console.outLines();
        assertTrue(rows.stream().anyMatch(r -> r.matches("encryption +1\\.0\\.0 +started +stage bundled-stage")), rows.toString());
        assertTrue(rows.stream().anyMatch(r -> r.matches("encryption \\(enc\\.jar\\) +- +refused +id \"encryption\" belongs to a "
                + "plugin that ships with ublk-gateway; remove enc\\.jar from the plugins directory or rebuild it with another Plugin-Id")),
                rows.toString());
    }

    @Test
    void aConstructorsExceptionIsListedAsTheReason() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path ctor = Corpus.jar(tmp.resolve("ctor.jar"), "ctor", "corpus.ConstructorThrows", "corpus.Stage");
        assertEquals(0, run("--plugins-dir", plugins.toString(), "plugins", "install", ctor.toString()), console.err());
        assertEquals(0, run("--plugins-dir", plugins.toString(), "plugins", "list"));
        List<String> rows = console.outLines();
        assertTrue(rows.stream().anyMatch(r -> r.matches("ctor \\(ctor-1\\.0\\.0\\.jar\\) +- +refused +failed to start: "
                + "IllegalStateException: boom in its constructor")), rows.toString());
        assertEquals("", console.err());
    }

    @Test
    void aZipSlipArchiveIsRefusedWithTheEntryNamed() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path slip = TestPlugins.jar(tmp.resolve("slip.jar"), TestPlugins.manifest("slip", "1.0.0", "1.0.0"),
                java.util.Map.of("../../evil.txt", "x".getBytes()));
        assertEquals(1, run("--plugins-dir", plugins.toString(), "plugins", "install", slip.toString()));
        assertEquals(List.of("ublk-gateway: slip.jar: entry \"../../evil.txt\" climbs out of the plugin's folder (..); "
                + "rebuild the archive with relative paths inside it"), console.errLines());
        assertFalse(Files.exists(plugins));
    }
}
