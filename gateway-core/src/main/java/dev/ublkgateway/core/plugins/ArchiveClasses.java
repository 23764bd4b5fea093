package dev.ublkgateway.core.plugins;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

/**
 * The files of a plugin archive as PF4J's class loader would find them, read as bytes: nothing in the
 * archive is loaded or run. A jar's classes are at its root; a zip's are in classes/, then in each
 * lib/*.jar. The archive's entries were checked by {@link PluginArchive#read} before this opens it.
 */
final class ArchiveClasses implements AutoCloseable {
    /** Larger than any class file javac writes; a bigger entry is not read. */
    private static final int MAX_FILE_BYTES = 16 << 20;

    private final String file;
    private final ZipFile zip;
    private final boolean zipLayout;
    private List<Map<String, byte[]>> libs; // read when a name is not in classes/

    private ArchiveClasses(String file, ZipFile zip, boolean zipLayout) {
        this.file = file;
        this.zip = zip;
        this.zipLayout = zipLayout;
    }

    static ArchiveClasses open(PluginArchive a) throws IOException {
        return new ArchiveClasses(a.path().getFileName().toString(), new ZipFile(a.path().toFile()), a.isZipLayout());
    }

    /** A file by its name on the class path, e.g. "com/example/Foo.class" or "META-INF/extensions.idx". */
    Optional<byte[]> find(String name) throws IOException {
        ZipEntry e = zip.getEntry(zipLayout ? "classes/" + name : name);
        if (e != null && !e.isDirectory()) {
            try (InputStream in = zip.getInputStream(e)) {
                return Optional.of(readBounded(in, name));
            }
        }
        if (!zipLayout) return Optional.empty();
        for (Map<String, byte[]> lib : libs()) {
            byte[] b = lib.get(name);
            if (b != null) return Optional.of(b);
        }
        return Optional.empty();
    }

    /** Class files and extension indexes of the zip's lib/*.jar, in name order (as PF4J adds them). */
    private List<Map<String, byte[]>> libs() throws IOException {
        if (libs != null) return libs;
        libs = new ArrayList<>();
        List<ZipEntry> jars = zip.stream().map(e -> (ZipEntry) e)
                .filter(e -> e.getName().startsWith("lib/") && e.getName().endsWith(".jar") && !e.isDirectory())
                .sorted(java.util.Comparator.comparing(ZipEntry::getName)).toList();
        for (ZipEntry jar : jars) {
            Map<String, byte[]> files = new HashMap<>();
            try (InputStream raw = zip.getInputStream(jar);
                 ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(raw.readAllBytes()))) {
                for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                    if (e.getName().endsWith(".class") || e.getName().equals(ArchiveInspector.EXTENSION_INDEX)) {
                        files.putIfAbsent(e.getName(), readBounded(in, e.getName()));
                    }
                }
            } catch (java.util.zip.ZipException x) {
                throw new IOException(file + ": " + jar.getName() + " is not a readable jar (" + x.getMessage() + "); rebuild the plugin");
            }
            libs.add(files);
        }
        return libs;
    }

    private byte[] readBounded(InputStream in, String name) throws IOException {
        byte[] b = in.readNBytes(MAX_FILE_BYTES + 1);
        if (b.length > MAX_FILE_BYTES) {
            throw new IOException(file + ": " + name + " is larger than " + (MAX_FILE_BYTES >> 20) + " MiB; it is no class file javac writes");
        }
        return b;
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
