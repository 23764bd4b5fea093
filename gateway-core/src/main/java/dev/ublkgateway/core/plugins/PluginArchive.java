package dev.ublkgateway.core.plugins;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A plugin archive as PF4J reads it: a jar whose manifest names the plugin (Plugin-Id, Plugin-Version,
 * Plugin-Requires, optionally Plugin-Class), or a zip with plugin.properties (plugin.id, plugin.version,
 * plugin.requires, plugin.class) at its root beside classes/ and lib/, or such a zip unpacked into a
 * directory (the bundled plugins). Every entry of a jar or zip is checked when it is read
 * ({@link ArchiveEntries}).
 *
 * @param pluginClass the Plugin-Class it names, or null when it has none (PF4J then uses its own)
 */
public record PluginArchive(Path path, String id, String version, String requires, String pluginClass) {

    /** Reads an archive's descriptor; the exception message says what is wrong and how to fix it. */
    public static PluginArchive read(Path path) throws IOException {
        String file = path.getFileName().toString();
        if (Files.isDirectory(path) && Files.isRegularFile(path.resolve("plugin.properties"))) return fromDirectory(path);
        if (!Files.isRegularFile(path)) throw new IOException(path + " does not exist or is not a file");
        if (file.endsWith(".jar")) return fromJar(path);
        if (file.endsWith(".zip")) return fromZip(path);
        throw new IOException(path + " is not a plugin archive; expected a .jar or .zip built for ublk-gateway");
    }

    /** Whether a zip plugin's layout applies (classes/ and lib/ beside plugin.properties), not a jar's. */
    public boolean isZipLayout() {
        return !path.getFileName().toString().endsWith(".jar");
    }

    private static PluginArchive fromJar(Path path) throws IOException {
        String file = path.getFileName().toString();
        Manifest mf;
        try (JarFile jar = open(file, "jar", () -> new JarFile(path.toFile()))) {
            ArchiveEntries.check(file, jar);
            try {
                mf = jar.getManifest();
            } catch (IOException e) {
                throw new IOException(file + ": its manifest cannot be read (" + e.getMessage() + "); build the jar again");
            }
        }
        if (mf == null) throw new IOException(file + " has no manifest; add Plugin-Id, Plugin-Version and Plugin-Requires to it");
        Attributes a = mf.getMainAttributes();
        return checked(path, a.getValue("Plugin-Id"), a.getValue("Plugin-Version"), a.getValue("Plugin-Requires"),
                a.getValue("Plugin-Class"), "Plugin-Id", "Plugin-Version", "manifest");
    }

    private static PluginArchive fromZip(Path path) throws IOException {
        String file = path.getFileName().toString();
        Properties p = new Properties();
        try (ZipFile zip = open(file, "zip", () -> new ZipFile(path.toFile()))) {
            ArchiveEntries.check(file, zip);
            ZipEntry e = zip.getEntry("plugin.properties");
            if (e == null) throw new IOException(file + " has no plugin.properties at its root; add one with plugin.id, plugin.version and plugin.requires");
            try (InputStream in = zip.getInputStream(e)) {
                p.load(in);
            }
        }
        return fromProperties(path, p);
    }

    private interface Opener<T> {
        T open() throws IOException;
    }

    /** Opens a jar or zip; one that is no zip at all (or cut short) is named as such. */
    private static <T extends ZipFile> T open(String file, String kind, Opener<T> opener) throws IOException {
        try {
            return opener.open();
        } catch (IOException e) {
            throw new IOException(file + " is not a readable " + kind + " (" + e.getMessage() + ")");
        }
    }

    private static PluginArchive fromDirectory(Path path) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(path.resolve("plugin.properties"))) {
            p.load(in);
        }
        return fromProperties(path, p);
    }

    private static PluginArchive fromProperties(Path path, Properties p) throws IOException {
        return checked(path, p.getProperty("plugin.id"), p.getProperty("plugin.version"), p.getProperty("plugin.requires"),
                p.getProperty("plugin.class"), "plugin.id", "plugin.version", "plugin.properties");
    }

    private static PluginArchive checked(Path path, String id, String version, String requires, String pluginClass,
                                         String idKey, String versionKey, String where) throws IOException {
        if (id == null || id.isBlank()) throw new IOException(path.getFileName() + ": " + where + " has no " + idKey + "; set it to the plugin's id");
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IOException(path.getFileName() + ": " + idKey + " \"" + id + "\" is not a valid id; use letters, digits, . _ -");
        }
        if (version == null || !version.strip().matches("\\d+\\.\\d+\\.\\d+.*")) {
            throw new IOException(path.getFileName() + ": " + where + " has no valid " + versionKey + " (got "
                    + (version == null ? "nothing" : "\"" + version + "\"") + "); use a semantic version like 1.0.0");
        }
        String cls = pluginClass == null || pluginClass.isBlank() ? null : pluginClass.strip();
        return new PluginArchive(path, id.strip(), version.strip(), requires == null ? null : requires.strip(), cls);
    }

    /** The .jar and .zip archives in a plugins directory; unreadable ones are skipped (loading reports them). */
    public static List<PluginArchive> list(Path dir) throws IOException {
        List<PluginArchive> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(PluginArchive::isArchiveFile).sorted().toList()) {
                try {
                    out.add(read(p));
                } catch (IOException ignored) {
                    // reported when the plugins are loaded
                }
            }
        }
        return out;
    }

    static boolean isArchiveFile(Path p) {
        String name = p.getFileName().toString();
        return Files.isRegularFile(p) && (name.endsWith(".jar") || name.endsWith(".zip"));
    }
}
