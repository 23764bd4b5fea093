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
 * Plugin-Requires), or a zip with plugin.properties (plugin.id, plugin.version, plugin.requires) at its
 * root beside classes/ and lib/.
 */
public record PluginArchive(Path path, String id, String version, String requires) {

    /** Reads an archive's descriptor; the exception message says what is wrong and how to fix it. */
    public static PluginArchive read(Path path) throws IOException {
        String file = path.getFileName().toString();
        if (!Files.isRegularFile(path)) throw new IOException(path + " does not exist or is not a file");
        if (file.endsWith(".jar")) return fromJar(path);
        if (file.endsWith(".zip")) return fromZip(path);
        throw new IOException(path + " is not a plugin archive; expected a .jar or .zip built for ublk-gateway");
    }

    private static PluginArchive fromJar(Path path) throws IOException {
        Manifest mf;
        try (JarFile jar = new JarFile(path.toFile())) {
            mf = jar.getManifest();
        } catch (IOException e) {
            throw new IOException(path.getFileName() + " is not a readable jar (" + e.getMessage() + ")");
        }
        if (mf == null) throw new IOException(path.getFileName() + " has no manifest; add Plugin-Id, Plugin-Version and Plugin-Requires to it");
        Attributes a = mf.getMainAttributes();
        return checked(path, a.getValue("Plugin-Id"), a.getValue("Plugin-Version"), a.getValue("Plugin-Requires"),
                "Plugin-Id", "Plugin-Version", "manifest");
    }

    private static PluginArchive fromZip(Path path) throws IOException {
        Properties p = new Properties();
        try (ZipFile zip = new ZipFile(path.toFile())) {
            ZipEntry e = zip.getEntry("plugin.properties");
            if (e == null) throw new IOException(path.getFileName() + " has no plugin.properties at its root; add one with plugin.id, plugin.version and plugin.requires");
            try (InputStream in = zip.getInputStream(e)) {
                p.load(in);
            }
        } catch (java.util.zip.ZipException e) {
            throw new IOException(path.getFileName() + " is not a readable zip (" + e.getMessage() + ")");
        }
        return checked(path, p.getProperty("plugin.id"), p.getProperty("plugin.version"), p.getProperty("plugin.requires"),
                "plugin.id", "plugin.version", "plugin.properties");
    }

    private static PluginArchive checked(Path path, String id, String version, String requires, String idKey,
                                         String versionKey, String where) throws IOException {
        if (id == null || id.isBlank()) throw new IOException(path.getFileName() + ": " + where + " has no " + idKey + "; set it to the plugin's id");
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IOException(path.getFileName() + ": " + idKey + " \"" + id + "\" is not a valid id; use letters, digits, . _ -");
        }
        if (version == null || !version.strip().matches("\\d+\\.\\d+\\.\\d+.*")) {
            throw new IOException(path.getFileName() + ": " + where + " has no valid " + versionKey + " (got "
                    + (version == null ? "nothing" : "\"" + version + "\"") + "); use a semantic version like 1.0.0");
        }
        return new PluginArchive(path, id.strip(), version.strip(), requires == null ? null : requires.strip());
    }

    /** The archives in a plugins directory; unreadable ones are skipped (loading reports them). */
    public static List<PluginArchive> list(Path dir) throws IOException {
        List<PluginArchive> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".jar") || f.toString().endsWith(".zip")).sorted().toList()) {
                try {
                    out.add(read(p));
                } catch (IOException ignored) {
                    // reported when the plugins are loaded
                }
            }
        }
        return out;
    }
}
