package dev.ublkgateway.core.plugins;

import dev.ublkgateway.api.ApiVersion;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A corpus of bad plugin archives, each through {@code plugins install} and through loading (dropped
 * into the plugins directory by hand): the one-line message each gets, and that a refused install
 * leaves the plugins directory as it was. Archives whose fault only running them shows (a constructor,
 * static initializer or start() that throws, a computed name that clashes) install, since install
 * never runs plugin code, and are set aside at load.
 */
class MalformedPluginArchivesTest {
    @TempDir
    Path tmp;

    interface Archive {
        Path build(Path tmp) throws IOException;
    }

    /**
     * @param install what the refused install says, or null when install accepts the archive
     * @param load    what PluginHost.problems() says of it when it lies in the plugins directory
     */
    record Case(String name, Archive archive, String install, String load) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Case c(String name, Archive archive, String install, String load) {
        return new Case(name, archive, install, load);
    }

    private static Map<String, byte[]> withEntry(String name) throws IOException {
        Map<String, byte[]> e = Corpus.entries("corpus.Stage");
        e.put(name, "x".getBytes());
        return e;
    }

    private static Map<String, byte[]> zipLayout(String id, String extra) throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("plugin.properties", ("plugin.id=" + id + "\nplugin.version=1.0.0\nplugin.requires=1.0.0\n").getBytes());
        Corpus.entries("corpus.Stage").forEach((k, v) -> e.put("classes/" + k, v));
        e.put(extra, "x".getBytes());
        return e;
    }

    /** What the bomb's manifest inflates to, besides its zeros. */
    private static final long MANIFEST_BYTES = 89;

    static Stream<Case> cases() {
        String api = ApiVersion.CURRENT;
        return Stream.of(
                c("not a zip", t -> Files.writeString(t.resolve("garbage.jar"), "not a zip"),
                        "garbage.jar is not a readable jar (", "plugin garbage.jar: garbage.jar is not a readable jar ("),
                c("truncated zip", t -> {
                    byte[] whole = Files.readAllBytes(Corpus.jar(t.resolve("whole.jar"), "cut", null, "corpus.Stage"));
                    Files.delete(t.resolve("whole.jar"));
                    return Files.write(t.resolve("truncated.jar"), java.util.Arrays.copyOf(whole, whole.length / 2));
                }, "truncated.jar is not a readable jar (", "plugin truncated.jar: truncated.jar is not a readable jar ("),
                c("empty jar", t -> Files.write(t.resolve("empty.jar"), new byte[0]),
                        "empty.jar is not a readable jar (", "plugin empty.jar: empty.jar is not a readable jar ("),
                c("no manifest", t -> TestPlugins.zip(t.resolve("nomanifest.jar"), Corpus.entries("corpus.Stage")),
                        "nomanifest.jar has no manifest; add Plugin-Id, Plugin-Version and Plugin-Requires to it",
                        "plugin nomanifest.jar: nomanifest.jar has no manifest; add Plugin-Id"),
                c("zip without plugin.properties", t -> TestPlugins.zip(t.resolve("noprops.zip"), Corpus.entries("corpus.Stage")),
                        "noprops.zip has no plugin.properties at its root; add one with plugin.id",
                        "plugin noprops.zip: noprops.zip has no plugin.properties at its root"),
                c("bad id", t -> Corpus.jar(t.resolve("badid.jar"), "bad id!", null, "corpus.Stage"),
                        "badid.jar: Plugin-Id \"bad id!\" is not a valid id; use letters, digits, . _ -",
                        "plugin badid.jar: badid.jar: Plugin-Id \"bad id!\" is not a valid id"),
                c("bad version", t -> TestPlugins.jar(t.resolve("badversion.jar"), TestPlugins.manifest("badversion", "one", "1.0.0"),
                                Corpus.entries("corpus.Stage")),
                        "badversion.jar: manifest has no valid Plugin-Version (got \"one\"); use a semantic version like 1.0.0",
                        "plugin badversion.jar: badversion.jar: manifest has no valid Plugin-Version (got \"one\")"),
                c("incompatible API version", t -> TestPlugins.jar(t.resolve("future.jar"), TestPlugins.manifest("future", "1.0.0", "2.0.0"),
                                Corpus.entries("corpus.Stage")),
                        "plugin future (future.jar) cannot be used: it needs plugin API 2.0.0 but this gateway provides " + api,
                        "plugin future (future.jar): it needs plugin API 2.0.0 but this gateway provides " + api),
                c("missing plugin class", t -> Corpus.jar(t.resolve("noclass.jar"), "noclass", "corpus.Missing", "corpus.Stage"),
                        "plugin noclass (noclass.jar) cannot be used: its Plugin-Class corpus.Missing is not in the archive; "
                                + "correct Plugin-Class in the manifest or add the class",
                        "plugin noclass (noclass.jar): its Plugin-Class corpus.Missing is not in the archive"),
                c("plugin class that is no Plugin", t -> Corpus.jar(t.resolve("notplugin.jar"), "notplugin", "corpus.Stage", "corpus.Stage"),
                        "its Plugin-Class corpus.Stage is not a concrete subclass of org.pf4j.Plugin",
                        "plugin notplugin (notplugin.jar): its Plugin-Class corpus.Stage is not a concrete subclass of org.pf4j.Plugin"),
                c("extension index naming a missing class", t -> Corpus.jar(t.resolve("hollow.jar"), "hollow", null, "corpus.Stage", "corpus.Gone"),
                        "plugin hollow (hollow.jar) cannot be used: its extension index names corpus.Gone, which is not in the archive; rebuild the plugin",
                        "plugin hollow (hollow.jar): its extension index names corpus.Gone, which is not in the archive"),
                c("extension implementing no provider interface", t -> Corpus.jar(t.resolve("runnable.jar"), "runnable", null, "corpus.NotAProvider"),
                        "plugin runnable (runnable.jar) cannot be used: its extension corpus.NotAProvider implements none of "
                                + "TargetProvider, StageProvider, ChunkCodecProvider, ObjectStoreProvider; implement one of them from plugin-api",
                        "plugin runnable (runnable.jar): its extension corpus.NotAProvider implements none of"),
                c("provides nothing", t -> Corpus.jar(t.resolve("empty-plugin.jar"), "nothing", null),
                        "plugin nothing (empty-plugin.jar) cannot be used: it provides nothing: META-INF/extensions.idx is missing; "
                                + "mark its providers @Extension and build it with PF4J's annotation processor",
                        "plugin nothing (empty-plugin.jar): it provides nothing: META-INF/extensions.idx is missing"),
                c("class file that is not one", t -> {
                    Map<String, byte[]> e = Corpus.entries("corpus.Broken");
                    e.put("corpus/Broken.class", "not a class".getBytes());
                    return TestPlugins.jar(t.resolve("broken.jar"), TestPlugins.manifest("broken", "1.0.0", "1.0.0"), e);
                }, "plugin broken (broken.jar) cannot be used: corpus/Broken.class is not a valid class file (",
                        "plugin broken (broken.jar): corpus/Broken.class is not a valid class file ("),
                c("zip-slip: ../ in a jar", t -> TestPlugins.jar(t.resolve("slip.jar"), TestPlugins.manifest("slip", "1.0.0", "1.0.0"),
                                withEntry("../evil.txt")),
                        "slip.jar: entry \"../evil.txt\" climbs out of the plugin's folder (..); rebuild the archive with relative paths inside it",
                        "plugin slip.jar: slip.jar: entry \"../evil.txt\" climbs out of the plugin's folder (..)"),
                c("zip-slip: ../ inside classes/ of a zip", t -> TestPlugins.zip(t.resolve("slip.zip"), zipLayout("slip", "classes/../../evil.txt")),
                        "slip.zip: entry \"classes/../../evil.txt\" climbs out of the plugin's folder (..); rebuild the archive with relative paths",
                        "plugin slip.zip: slip.zip: entry \"classes/../../evil.txt\" climbs out"),
                c("zip-slip: absolute path", t -> TestPlugins.zip(t.resolve("abs.zip"), zipLayout("abs", t.resolve("evil.txt").toString())),
                        "\" is an absolute path; rebuild the archive with relative paths inside it",
                        "plugin abs.zip: abs.zip: entry \"/"),
                c("zip-slip: backslashes", t -> TestPlugins.zip(t.resolve("backslash.zip"), zipLayout("backslash", "..\\..\\evil.txt")),
                        "backslash.zip: entry \"..\\..\\evil.txt\" has a backslash (an archive separates folders with /); rebuild",
                        "plugin backslash.zip: backslash.zip: entry \"..\\..\\evil.txt\" has a backslash"),
                c("zip-slip: drive letter", t -> TestPlugins.zip(t.resolve("drive.zip"), zipLayout("drive", "C:/evil.txt")),
                        "drive.zip: entry \"C:/evil.txt\" starts with a drive letter; rebuild the archive with relative paths inside it",
                        "plugin drive.zip: drive.zip: entry \"C:/evil.txt\" starts with a drive letter"),
                c("too many entries", t -> Corpus.manyEntries(t.resolve("many.jar"), "many", ArchiveEntries.MAX_ENTRIES + 1),
                        "many.jar holds 50002 entries, more than the 50000 a plugin archive may hold; rebuild it with fewer files",
                        "plugin many.jar: many.jar holds 50002 entries, more than the 50000"),
                c("inflates too much", t -> Corpus.inflating(t.resolve("bomb.jar"), "bomb", ArchiveEntries.MAX_BYTES + 1),
                        // the zeros and the manifest
                        "bomb.jar inflates to " + (ArchiveEntries.MAX_BYTES + 1 + MANIFEST_BYTES) + " bytes, more than the 536870912 bytes "
                                + "(512 MiB) a plugin archive may hold; rebuild it smaller",
                        "plugin bomb.jar: bomb.jar inflates to " + (ArchiveEntries.MAX_BYTES + 1 + MANIFEST_BYTES) + " bytes, more than"),
                c("id of a bundled plugin", t -> Corpus.jar(t.resolve("enc.jar"), "encryption", null, "corpus.Stage"),
                        "plugin encryption (enc.jar) cannot be used: id \"encryption\" belongs to a plugin that ships with ublk-gateway; "
                                + "choose another Plugin-Id",
                        "plugin encryption (enc.jar): id \"encryption\" belongs to a plugin that ships with ublk-gateway; "
                                + "remove enc.jar from the plugins directory or rebuild it with another Plugin-Id"),
                c("id of an installed plugin", t -> Corpus.jar(t.resolve("b-dup.jar"), "dup", null, "corpus.DerivedStage"),
                        "plugin dup 1.0.0 is already installed; use --upgrade to replace it with 1.0.0",
                        "plugin dup (b-dup.jar): plugin id \"dup\" is also used by a-dup.jar, which is loaded instead; remove one of the two"),
                c("name of a built-in", t -> Corpus.jar(t.resolve("clash.jar"), "clash", null, "corpus.StatsClash"),
                        "plugin clash (clash.jar) cannot be used: stage type \"stats\" is already provided by built-in; give corpus.StatsClash another name",
                        "plugin clash (clash.jar): stage type \"stats\" is already provided by built-in; rename it in the plugin"),
                c("name of a bundled plugin's component", t -> Corpus.jar(t.resolve("clash2.jar"), "clash2", null, "corpus.BundledStage"),
                        "plugin clash2 (clash2.jar) cannot be used: stage type \"bundled-stage\" is already provided by encryption; "
                                + "give corpus.BundledStage another name",
                        "plugin clash2 (clash2.jar): stage type \"bundled-stage\" is already provided by encryption; remove one of the two plugins"),
                c("computed name of a built-in", t -> Corpus.jar(t.resolve("computed.jar"), "computed", null, "corpus.ComputedStats"),
                        null, "plugin computed (computed.jar): stage type \"stats\" is already provided by built-in; rename it in the plugin"),
                c("constructor throws", t -> Corpus.jar(t.resolve("ctor.jar"), "ctor", "corpus.ConstructorThrows", "corpus.Stage"),
                        null, "plugin ctor (ctor.jar): failed to start: IllegalStateException: boom in its constructor"),
                c("static initializer throws", t -> Corpus.jar(t.resolve("static.jar"), "static", "corpus.StaticThrows", "corpus.Stage"),
                        null, "plugin static (static.jar): failed to start: IllegalStateException: boom in its static initializer"),
                c("start() throws", t -> Corpus.jar(t.resolve("start.jar"), "start", "corpus.StartThrows", "corpus.Stage"),
                        null, "plugin start (start.jar): failed to start: IllegalStateException: cannot reach license server"));
    }

    /** The installed copy of "dup" that the duplicate-id case meets. */
    private Path firstDup() throws IOException {
        return Corpus.jar(Files.createDirectories(tmp.resolve("first")).resolve("a-dup.jar"), "dup", null, "corpus.Stage");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void install(Case c) throws Exception {
        Path plugins = tmp.resolve("plugins");
        PluginInstaller installer = new PluginInstaller(plugins, Corpus.bundled());
        if (c.name().equals("id of an installed plugin")) installer.install(firstDup(), false);
        List<String> before = listing(plugins);
        Path archive = c.archive().build(Files.createDirectories(tmp.resolve("in")));
        if (c.install() == null) {
            PluginArchive a = installer.install(archive, false);
            assertTrue(Files.isRegularFile(plugins.resolve(a.id() + "-1.0.0.jar")), listing(plugins).toString());
            return;
        }
        IOException e = assertThrows(IOException.class, () -> installer.install(archive, false));
        assertTrue(e.getMessage().contains(c.install()), e.getMessage());
        assertOneLine(e.getMessage());
        assertEquals(before, listing(plugins), "a refused install leaves the plugins directory as it was");
        assertFalse(Files.exists(tmp.resolve("evil.txt")) || Files.exists(tmp.resolve("in/evil.txt")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void load(Case c) throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        if (c.name().equals("id of an installed plugin")) Files.copy(firstDup(), plugins.resolve("a-dup.jar"));
        Path archive = c.archive().build(Files.createDirectories(tmp.resolve("in")));
        Files.copy(archive, plugins.resolve(archive.getFileName()));
        try (PluginHost host = PluginHost.load(plugins, Corpus.bundled())) {
            List<String> problems = host.problems().stream().map(PluginProblem::toString).toList();
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.getFirst().contains(c.load()), problems.getFirst());
            assertOneLine(problems.getFirst());
            List<String> started = host.plugins().stream().map(w -> w.getPluginId()).sorted().toList();
            assertEquals(c.name().equals("id of an installed plugin") ? List.of("dup", "encryption") : List.of("encryption"), started,
                    "the bundled plugin (and the first of two with one id) still start; the bad one does not");
            assertTrue(host.stage("bundled-stage").isPresent() && host.stage("stats").isPresent());
        }
        // PF4J never unpacked an unsafe zip, so nothing was written outside the plugins directory
        assertFalse(Files.exists(tmp.resolve("evil.txt")) || Files.exists(plugins.resolve("evil.txt")));
    }

    static void assertOneLine(String message) {
        assertFalse(message.contains("\n") || message.contains("\r"), "more than one line: " + message);
        assertFalse(message.matches(".*\\bat [\\w.$]+\\([\\w]+\\.java:\\d+\\).*"), "a stack trace: " + message);
        assertFalse(message.contains("NullPointerException"), message);
    }

    private static List<String> listing(Path dir) throws IOException {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
