package dev.ublkgateway.core.plugins;

import dev.ublkgateway.core.cli.Main;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** `plugins install` and `plugins list` as a user sees them: exit codes and the lines they print. */
class PluginsCliTest {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    private PrintStream oldOut, oldErr;

    @BeforeEach
    void capture() throws Exception {
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        System.setProperty("ublkgw.bundled.plugins", Corpus.bundled().orElseThrow().toString());
    }

    @AfterEach
    void restore() {
        System.setOut(oldOut);
        System.setErr(oldErr);
        System.clearProperty("ublkgw.bundled.plugins");
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.run(args);
    }

    private List<String> lines(ByteArrayOutputStream b) {
        return b.toString().lines().toList();
    }

    @Test
    void aBundledPluginsIdIsRefusedAtInstallAndListedWhenDroppedInByHand() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path enc = Corpus.jar(tmp.resolve("enc.jar"), "encryption", null, "corpus.Stage");
        assertEquals(1, run("--plugins-dir", plugins.toString(), "plugins", "install", enc.toString()));
        assertEquals(List.of("ublk-gateway: plugin encryption (enc.jar) cannot be used: id \"encryption\" belongs to a plugin "
                + "that ships with ublk-gateway; choose another Plugin-Id"), lines(err));
        assertFalse(Files.exists(plugins));

        Files.createDirectories(plugins);
        Files.copy(enc, plugins.resolve("enc.jar"));
        assertEquals(0, run("--plugins-dir", plugins.toString(), "plugins", "list"));
        List<String> rows = lines(out);
        assertTrue(rows.stream().anyMatch(r -> r.matches("encryption +1\\.0\\.0 +started +stage bundled-stage")), rows.toString());
        assertTrue(rows.stream().anyMatch(r -> r.matches("encryption \\(enc\\.jar\\) +- +refused +id \"encryption\" belongs to a "
                + "plugin that ships with ublk-gateway; remove enc\\.jar from the plugins directory or rebuild it with another Plugin-Id")),
                rows.toString());
    }

    @Test
    void aConstructorsExceptionIsListedAsTheReason() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path ctor = Corpus.jar(tmp.resolve("ctor.jar"), "ctor", "corpus.ConstructorThrows", "corpus.Stage");
        assertEquals(0, run("--plugins-dir", plugins.toString(), "plugins", "install", ctor.toString()), err.toString());
        assertEquals(0, run("--plugins-dir", plugins.toString(), "plugins", "list"));
        List<String> rows = lines(out);
        assertTrue(rows.stream().anyMatch(r -> r.matches("ctor \\(ctor-1\\.0\\.0\\.jar\\) +- +refused +failed to start: "
                + "IllegalStateException: boom in its constructor")), rows.toString());
        assertEquals("", err.toString());
    }

    @Test
    void aZipSlipArchiveIsRefusedWithTheEntryNamed() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path slip = TestPlugins.jar(tmp.resolve("slip.jar"), TestPlugins.manifest("slip", "1.0.0", "1.0.0"),
                java.util.Map.of("../../evil.txt", "x".getBytes()));
        assertEquals(1, run("--plugins-dir", plugins.toString(), "plugins", "install", slip.toString()));
        assertEquals(List.of("ublk-gateway: slip.jar: entry \"../../evil.txt\" climbs out of the plugin's folder (..); "
                + "rebuild the archive with relative paths inside it"), lines(err));
        assertFalse(Files.exists(plugins));
    }
}
