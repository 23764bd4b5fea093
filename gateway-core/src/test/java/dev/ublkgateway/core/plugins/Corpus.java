package dev.ublkgateway.core.plugins;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.Deflater;

/**
 * Plugin classes for the archive tests, compiled once: a good stage, stages whose name clashes, a class
 * that provides nothing, plugin classes that throw in their constructor, static initializer or start,
 * and classes that leave a marker file when they are initialized. Which of them an archive offers is up
 * to its extension index and Plugin-Class.
 */
final class Corpus {
    private Corpus() {}

    /** System property naming the file the Marker* classes create when initialized. */
    static final String MARKER = "ublkgw.test.marker";

    private static final Map<String, String> SOURCES = new LinkedHashMap<>();
    static {
        SOURCES.put("corpus/NoOptions.java", "package corpus; public record NoOptions() {}");
        SOURCES.put("corpus/Stage.java", stage("Stage", "return \"corpus-stage\";", ""));
        SOURCES.put("corpus/BundledStage.java", stage("BundledStage", "return \"bundled-stage\";", ""));
        SOURCES.put("corpus/StatsClash.java", stage("StatsClash", "return \"stats\";", ""));
        // a name only running it tells: javac cannot fold trim() into a constant
        SOURCES.put("corpus/ComputedStats.java", stage("ComputedStats", "return \" stats \".trim();", ""));
        SOURCES.put("corpus/MarkerStage.java", stage("MarkerStage", "return \"marker-stage\";",
                "static { Marker.leave(\"MarkerStage\"); }"));
        SOURCES.put("corpus/BaseStage.java", """
                package corpus;
                public abstract class BaseStage implements dev.ublkgateway.api.StageProvider<NoOptions> {
                    public String name() { return "derived-stage"; }
                    public String description() { return "test"; }
                    public Class<NoOptions> configType() { return NoOptions.class; }
                }
                """);
        SOURCES.put("corpus/DerivedStage.java", """
                package corpus;
                @org.pf4j.Extension
                public class DerivedStage extends BaseStage {
                    public dev.ublkgateway.api.BlockStage create(NoOptions c, dev.ublkgateway.api.DeviceDescriptor d) {
                        throw new UnsupportedOperationException();
                    }
                }
                """);
        SOURCES.put("corpus/NotAProvider.java", "package corpus; public class NotAProvider implements Runnable { public void run() {} }");
        SOURCES.put("corpus/Marker.java", """
                package corpus;
                public final class Marker {
                    static void leave(String who) {
                        try {
                            java.nio.file.Files.writeString(java.nio.file.Path.of(System.getProperty("%s")), who);
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
                }
                """.formatted(MARKER));
        SOURCES.put("corpus/MarkerPlugin.java", """
                package corpus;
                public class MarkerPlugin extends org.pf4j.Plugin {
                    static { Marker.leave("MarkerPlugin"); }
                }
                """);
        SOURCES.put("corpus/ConstructorThrows.java", """
                package corpus;
                public class ConstructorThrows extends org.pf4j.Plugin {
                    public ConstructorThrows() { throw new IllegalStateException("boom in its constructor"); }
                }
                """);
        SOURCES.put("corpus/StaticThrows.java", """
                package corpus;
                public class StaticThrows extends org.pf4j.Plugin {
                    static { boom(); }
                    static void boom() { throw new IllegalStateException("boom in its static initializer"); }
                }
                """);
        SOURCES.put("corpus/StartThrows.java", """
                package corpus;
                public class StartThrows extends org.pf4j.Plugin {
                    @Override public void start() { throw new IllegalStateException("cannot reach license server"); }
                }
                """);
    }

    private static String stage(String cls, String nameBody, String extra) {
        return """
                package corpus;
                @org.pf4j.Extension
                public class %s implements dev.ublkgateway.api.StageProvider<NoOptions> {
                    %s
                    public String name() { %s }
                    public String description() { return "a stage of the archive tests"; }
                    public Class<NoOptions> configType() { return NoOptions.class; }
                    public dev.ublkgateway.api.BlockStage create(NoOptions c, dev.ublkgateway.api.DeviceDescriptor d) {
                        throw new UnsupportedOperationException();
                    }
                }
                """.formatted(cls, extra, nameBody);
    }

    private static Map<String, byte[]> classes;

    /** Every corpus class file by entry name (no extension index: each archive writes its own). */
    static synchronized Map<String, byte[]> classes() throws IOException {
        if (classes == null) {
            Path work = Files.createTempDirectory("ublkgw-corpus");
            Map<String, byte[]> c = new LinkedHashMap<>(TestPlugins.compile(work, SOURCES));
            c.remove(ArchiveInspector.EXTENSION_INDEX);
            classes = Map.copyOf(c);
        }
        return classes;
    }

    /** The corpus classes plus an extension index listing {@code extensions} (none: no index). */
    static Map<String, byte[]> entries(String... extensions) throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>(classes());
        if (extensions.length > 0) {
            e.put(ArchiveInspector.EXTENSION_INDEX, ("# Generated by PF4J\n" + String.join("\n", extensions) + "\n").getBytes());
        }
        return e;
    }

    /** A jar plugin with the corpus classes and an extension index. */
    static Path jar(Path file, String id, String pluginClass, String... extensions) throws IOException {
        Map<String, String> mf = TestPlugins.manifest(id, "1.0.0", "1.0.0");
        if (pluginClass != null) mf.put("Plugin-Class", pluginClass);
        return TestPlugins.jar(file, mf, entries(extensions));
    }

    /** The bundled plugins as the tests see them: "encryption" providing stage bundled-stage. */
    static synchronized Optional<Path> bundled() throws IOException {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "ublkgw-test-bundled-" + ProcessHandle.current().pid());
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            jar(dir.resolve("encryption-0.1.0.jar"), "encryption", null, "corpus.BundledStage");
            dir.toFile().deleteOnExit();
            dir.resolve("encryption-0.1.0.jar").toFile().deleteOnExit();
        }
        return Optional.of(dir);
    }

    /** A jar whose manifest is fine and whose one entry inflates to {@code bytes} zeros. */
    static Path inflating(Path file, String id, long bytes) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        TestPlugins.manifest(id, "1.0.0", "1.0.0").forEach(mf.getMainAttributes()::putValue);
        byte[] zeros = new byte[1 << 20];
        try (OutputStream os = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(os, mf)) {
            jar.setLevel(Deflater.BEST_SPEED);
            jar.putNextEntry(new JarEntry("zeros.bin"));
            for (long left = bytes; left > 0; left -= zeros.length) jar.write(zeros, 0, (int) Math.min(zeros.length, left));
            jar.closeEntry();
        }
        return file;
    }

    /** A jar with {@code count} empty entries besides its manifest. */
    static Path manyEntries(Path file, String id, int count) throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) e.put("f/" + i, new byte[0]);
        return TestPlugins.jar(file, TestPlugins.manifest(id, "1.0.0", "1.0.0"), e);
    }
}
