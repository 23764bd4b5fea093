package dev.ublkgateway.core.plugins;

import dev.ublkgateway.api.ApiVersion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The third-party example through the installer and the host, and every kind of broken archive. */
class PluginLoadingTest {
    static Path exampleJar;

    @TempDir
    Path tmp;

    @BeforeAll
    static void build() throws Exception {
        exampleJar = TestPlugins.buildExample();
    }

    private static Map<String, String> manifest(String id, String version, String requires) {
        return TestPlugins.manifest(id, version, requires);
    }

    @Test
    void theExampleInstallsLoadsAndProvidesItsStage() throws Exception {
        Path dir = tmp.resolve("plugins");
        PluginArchive a = new PluginInstaller(dir).install(exampleJar, false);
        assertEquals("checksum", a.id());
        assertEquals("1.0.0", a.version());
        try (PluginHost host = PluginHost.load(dir)) {
            assertTrue(host.problems().isEmpty(), host.problems().toString());
            Provided p = host.find("stage", "checksum").orElseThrow();
            assertEquals("checksum", p.pluginId());
            assertTrue(host.stage("stats").isPresent(), "built-ins still there");
        }
        IOException dup = assertThrows(IOException.class, () -> new PluginInstaller(dir).install(exampleJar, false));
        assertEquals("plugin checksum 1.0.0 is already installed; use --upgrade to replace it with 1.0.0", dup.getMessage());
        new PluginInstaller(dir).install(exampleJar, true);
        assertEquals(1, PluginArchive.list(dir).size());
        new PluginInstaller(dir).remove("checksum");
        assertEquals(0, PluginArchive.list(dir).size());
    }

    @Test
    void aManifestWithoutIdIsRefused() throws Exception {
        Path bad = TestPlugins.jar(tmp.resolve("noid.jar"), manifest(null, "1.0.0", "1.0.0"), Map.of());
        IOException e = assertThrows(IOException.class, () -> new PluginInstaller(tmp.resolve("p")).install(bad, false));
        assertEquals("noid.jar: manifest has no Plugin-Id; set it to the plugin's id", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("p")), "nothing copied");
    }

    @Test
    void anIncompatibleApiVersionIsRefusedAtInstallAndAtLoad() throws Exception {
        Path future = TestPlugins.jar(tmp.resolve("future.jar"), manifest("future", "1.0.0", "2.0.0"),
                TestPlugins.entriesOf(exampleJar));
        IOException e = assertThrows(IOException.class, () -> new PluginInstaller(tmp.resolve("p")).install(future, false));
        assertEquals("plugin future (future.jar) cannot be used: it needs plugin API 2.0.0 but this gateway provides "
                + ApiVersion.CURRENT, e.getMessage());
        // dropped into the directory by hand: set aside at load, with the same reason
        Path dir = Files.createDirectories(tmp.resolve("byhand"));
        Files.copy(future, dir.resolve("future.jar"));
        Files.copy(exampleJar, dir.resolve("checksum.jar"));
        try (PluginHost host = PluginHost.load(dir)) {
            assertEquals(1, host.problems().size());
            assertEquals("plugin future (future.jar): it needs plugin API 2.0.0 but this gateway provides "
                    + ApiVersion.CURRENT, host.problems().getFirst().toString());
            assertTrue(host.stage("checksum").isPresent(), "the good plugin still loads");
        }
    }

    @Test
    void missingClassesAreRefused() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("META-INF/extensions.idx", "com.example.Missing\n".getBytes());
        Path bad = TestPlugins.jar(tmp.resolve("hollow.jar"), manifest("hollow", "1.0.0", "1.0.0"), entries);
        IOException e = assertThrows(IOException.class, () -> new PluginInstaller(tmp.resolve("p")).install(bad, false));
        assertEquals("plugin hollow (hollow.jar) cannot be used: its extension index names com.example.Missing, which is not "
                + "in the archive; rebuild the plugin", e.getMessage());
    }

    @Test
    void anExceptionInStartIsContained() throws Exception {
        Map<String, byte[]> classes = new LinkedHashMap<>(TestPlugins.compile(tmp.resolve("boom"), Map.of(
                "boom/BoomPlugin.java", """
                        package boom;
                        public class BoomPlugin extends org.pf4j.Plugin {
                            @Override public void start() { throw new IllegalStateException("cannot reach license server"); }
                        }
                        """)));
        classes.putAll(TestPlugins.entriesOf(exampleJar)); // its stage, so that it provides something
        Map<String, String> mf = manifest("boom", "1.0.0", "1.0.0");
        mf.put("Plugin-Class", "boom.BoomPlugin");
        Path boom = TestPlugins.jar(tmp.resolve("boom.jar"), mf, classes);
        // install reads the archive and runs none of it, so it cannot know start() throws
        Path dir = tmp.resolve("p");
        new PluginInstaller(dir).install(boom, false);
        try (PluginHost host = PluginHost.load(dir)) {
            assertEquals(List.of("plugin boom (boom-1.0.0.jar): failed to start: IllegalStateException: cannot reach license server"),
                    host.problems().stream().map(PluginProblem::toString).toList());
            assertTrue(host.stage("checksum").isEmpty(), "a plugin that did not start provides nothing");
        }
    }

    @Test
    void twoPluginsWithTheSameStageNameKeepTheFirst() throws Exception {
        Path dir = tmp.resolve("plugins");
        new PluginInstaller(dir).install(exampleJar, false);
        Path twin = TestPlugins.jar(tmp.resolve("twin.jar"), manifest("twin", "1.0.0", "1.0.0"),
                TestPlugins.entriesOf(exampleJar));
        IOException e = assertThrows(IOException.class, () -> new PluginInstaller(dir).install(twin, false));
        assertTrue(e.getMessage().contains("stage type \"checksum\" is already provided by checksum"), e.getMessage());
        try (PluginHost host = PluginHost.load(dir)) {
            assertEquals("checksum", host.find("stage", "checksum").orElseThrow().pluginId());
        }
    }

    @Test
    void notAnArchiveAtAll() throws Exception {
        Path txt = Files.writeString(tmp.resolve("readme.txt"), "hi");
        IOException e = assertThrows(IOException.class, () -> new PluginInstaller(tmp.resolve("p")).install(txt, false));
        assertEquals(txt + " is not a plugin archive; expected a .jar or .zip built for ublk-gateway", e.getMessage());
        Path garbage = Files.writeString(tmp.resolve("garbage.jar"), "not a zip");
        e = assertThrows(IOException.class, () -> new PluginInstaller(tmp.resolve("p")).install(garbage, false));
        assertTrue(e.getMessage().startsWith("garbage.jar is not a readable jar"), e.getMessage());
    }

    @Test
    void brokenJarsDroppedIntoTheDirectoryAreSetAsideInOneLine() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("dropped"));
        Files.copy(exampleJar, dir.resolve("checksum.jar"));
        Files.writeString(dir.resolve("garbage.jar"), "not a zip");
        TestPlugins.jar(dir.resolve("noid.jar"), manifest(null, "1.0.0", "1.0.0"), Map.of());
        try (PluginHost host = PluginHost.load(dir)) {
            List<String> got = host.problems().stream().map(PluginProblem::toString).sorted().toList();
            assertEquals(2, got.size(), got.toString());
            assertTrue(got.get(0).startsWith("plugin garbage.jar: garbage.jar is not a readable jar"), got.get(0));
            assertEquals("plugin noid.jar: noid.jar: manifest has no Plugin-Id; set it to the plugin's id", got.get(1));
            assertTrue(host.stage("checksum").isPresent(), "the good plugin still loads");
        }
    }
}
