package dev.ublkgateway.core.plugins;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;

import static org.junit.jupiter.api.Assertions.*;

/** Install reads archives and never runs them; what a plugin's own code throws is reported at load. */
class PluginArchiveSafetyTest {
    @TempDir
    Path tmp;

    @AfterEach
    void forgetMarker() {
        System.clearProperty(Corpus.MARKER);
    }

    @Test
    void installRunsNoneOfTheArchivesCode() throws Exception {
        Path marker = tmp.resolve("marker");
        System.setProperty(Corpus.MARKER, marker.toString());
        Path plugins = tmp.resolve("plugins");
        Path jar = Corpus.jar(tmp.resolve("marker.jar"), "marker", "corpus.MarkerPlugin", "corpus.MarkerStage");
        PluginArchive a = new PluginInstaller(plugins, Corpus.bundled()).install(jar, false);
        assertEquals("marker", a.id());
        assertFalse(Files.exists(marker), "install initialized a class of the archive");
        // loading it does run it: the marker proves the classes above really leave one
        try (PluginHost host = PluginHost.load(plugins, Corpus.bundled())) {
            assertTrue(host.problems().isEmpty(), host.problems().toString());
            assertTrue(host.stage("marker-stage").isPresent());
        }
        assertTrue(Files.exists(marker));
    }

    @Test
    void aRefusedArchiveIsNotRunEither() throws Exception {
        Path marker = tmp.resolve("marker");
        System.setProperty(Corpus.MARKER, marker.toString());
        Path jar = Corpus.jar(tmp.resolve("marker.jar"), "marker", "corpus.MarkerPlugin", "corpus.MarkerStage", "corpus.StatsClash");
        Exception e = assertThrows(Exception.class, () -> new PluginInstaller(tmp.resolve("plugins"), Corpus.bundled()).install(jar, false));
        assertTrue(e.getMessage().contains("stage type \"stats\" is already provided by built-in"), e.getMessage());
        assertFalse(Files.exists(marker));
    }

    @Test
    void aBundledIdIsReservedEvenWhenAnArchiveWithItLiesInThePluginsDirectory() throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Corpus.jar(plugins.resolve("by-hand.jar"), "encryption", null, "corpus.Stage");
        Path enc = Corpus.jar(tmp.resolve("enc.jar"), "encryption", null, "corpus.DerivedStage");
        Exception e = assertThrows(Exception.class, () -> new PluginInstaller(plugins, Corpus.bundled()).install(enc, true));
        assertEquals("plugin encryption (enc.jar) cannot be used: id \"encryption\" belongs to a plugin that ships with "
                + "ublk-gateway; choose another Plugin-Id", e.getMessage());
    }

    @Test
    void aNameABundledPluginProvidesIsRefusedWithAFixThatWorks() throws Exception {
        Path jar = Corpus.jar(tmp.resolve("clash.jar"), "clash", null, "corpus.BundledStage");
        Exception e = assertThrows(Exception.class, () -> new PluginInstaller(tmp.resolve("plugins"), Corpus.bundled()).install(jar, false));
        // a bundled plugin cannot be removed, so the message does not suggest it
        assertEquals("plugin clash (clash.jar) cannot be used: stage type \"bundled-stage\" is already provided by encryption; "
                + "give corpus.BundledStage another name", e.getMessage());
    }

    @Test
    void aProviderInterfaceReachedThroughAnAbstractSuperclassIsFound() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path jar = Corpus.jar(tmp.resolve("derived.jar"), "derived", null, "corpus.DerivedStage");
        new PluginInstaller(plugins, Corpus.bundled()).install(jar, false);
        // its name comes from the superclass: a clash with it is seen at install
        Path twin = Corpus.jar(tmp.resolve("twin.jar"), "twin", null, "corpus.DerivedStage");
        Exception e = assertThrows(Exception.class, () -> new PluginInstaller(plugins, Corpus.bundled()).install(twin, false));
        assertEquals("plugin twin (twin.jar) cannot be used: stage type \"derived-stage\" is already provided by derived; "
                + "give corpus.DerivedStage another name or remove plugin derived", e.getMessage());
        try (PluginHost host = PluginHost.load(plugins, Corpus.bundled())) {
            assertEquals("derived", host.find("stage", "derived-stage").orElseThrow().pluginId());
        }
    }

    @Test
    void aZipPluginsClassesAreFoundInClassesAndLibJars() throws Exception {
        // the extension index and the stage in classes/, its superclass in a lib jar
        Map<String, byte[]> all = Corpus.entries("corpus.DerivedStage");
        Map<String, byte[]> lib = new LinkedHashMap<>();
        lib.put("corpus/BaseStage.class", all.get("corpus/BaseStage.class"));
        lib.put("corpus/NoOptions.class", all.get("corpus/NoOptions.class"));
        Map<String, byte[]> zip = new LinkedHashMap<>();
        zip.put("plugin.properties", "plugin.id=zipped\nplugin.version=1.0.0\nplugin.requires=1.0.0\nplugin.class=\n".getBytes());
        zip.put("classes/corpus/DerivedStage.class", all.get("corpus/DerivedStage.class"));
        zip.put("classes/" + ArchiveInspector.EXTENSION_INDEX, all.get(ArchiveInspector.EXTENSION_INDEX));
        zip.put("lib/base.jar", jarBytes(lib));
        Path archive = TestPlugins.zip(tmp.resolve("zipped.zip"), zip);
        Path plugins = tmp.resolve("plugins");
        new PluginInstaller(plugins, Corpus.bundled()).install(archive, false);
        try (PluginHost host = PluginHost.load(plugins, Corpus.bundled())) {
            assertTrue(host.problems().isEmpty(), host.problems().toString());
            assertEquals("zipped", host.find("stage", "derived-stage").orElseThrow().pluginId());
        }
        // without the lib jar the superclass, and so the provider interface, is not in the archive
        zip.remove("lib/base.jar");
        Path hollow = TestPlugins.zip(tmp.resolve("hollow.zip"), zip);
        Exception e = assertThrows(Exception.class, () -> new PluginInstaller(tmp.resolve("p2"), Corpus.bundled()).install(hollow, false));
        assertTrue(e.getMessage().contains("its extension corpus.DerivedStage implements none of"), e.getMessage());
    }

    @Test
    void aZipClimbingIntoASiblingFolderIsNeverUnpacked() throws Exception {
        // PF4J's own unzip compares path prefixes: plugins/slipx/ would pass as inside plugins/slip/
        Map<String, byte[]> zip = new LinkedHashMap<>();
        zip.put("plugin.properties", "plugin.id=slip\nplugin.version=1.0.0\nplugin.requires=1.0.0\n".getBytes());
        zip.put("../slipx/evil.txt", "x".getBytes());
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        TestPlugins.zip(plugins.resolve("slip.zip"), zip);
        try (PluginHost host = PluginHost.load(plugins, Corpus.bundled())) {
            assertEquals(List.of("plugin slip.zip: slip.zip: entry \"../slipx/evil.txt\" climbs out of the plugin's folder (..); "
                    + "rebuild the archive with relative paths inside it"), host.problems().stream().map(PluginProblem::toString).toList());
        }
        assertFalse(Files.exists(plugins.resolve("slipx")), "unpacked outside the plugin's folder");
        assertFalse(Files.exists(plugins.resolve("slip")), "unpacked at all");
    }

    @Test
    void aDuplicateIdInThePluginsDirectoryIsListedWithItsReason() throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Corpus.jar(plugins.resolve("a.jar"), "same", null, "corpus.Stage");
        Corpus.jar(plugins.resolve("b.jar"), "same", null, "corpus.DerivedStage");
        try (PluginHost host = PluginHost.load(plugins, Corpus.bundled())) {
            assertEquals(List.of("plugin same (b.jar): plugin id \"same\" is also used by a.jar, which is loaded instead; remove one of the two"),
                    host.problems().stream().map(PluginProblem::toString).toList());
            assertTrue(host.stage("corpus-stage").isPresent());
        }
    }

    @Test
    void aConstructorsExceptionIsNamedInOneLine() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path jar = Corpus.jar(tmp.resolve("ctor.jar"), "ctor", "corpus.ConstructorThrows", "corpus.Stage");
        new PluginInstaller(plugins, Corpus.bundled()).install(jar, false); // only running it tells
        try (PluginHost host = PluginHost.load(plugins, Corpus.bundled())) {
            assertEquals(List.of("plugin ctor (ctor-1.0.0.jar): failed to start: IllegalStateException: boom in its constructor"),
                    host.problems().stream().map(PluginProblem::toString).toList());
            assertTrue(host.stage("corpus-stage").isEmpty(), "a plugin that did not start provides nothing");
        }
    }

    private static byte[] jarBytes(Map<String, byte[]> entries) throws java.io.IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(b)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                jar.putNextEntry(new ZipEntry(e.getKey()));
                jar.write(e.getValue());
                jar.closeEntry();
            }
        }
        return b.toByteArray();
    }
}
