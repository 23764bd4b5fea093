package dev.ublkgateway.core.plugins;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/** Builds plugin archives for tests: the real third-party example, and broken variants. */
final class TestPlugins {
    private TestPlugins() {}

    static final Path EXAMPLE = Path.of("../examples/third-party-plugin").toAbsolutePath().normalize();

    /** Builds examples/third-party-plugin with Maven, as its README says, and returns the jar. */
    static synchronized Path buildExample() throws Exception {
        Path jar = EXAMPLE.resolve("target/checksum-stage-1.0.0.jar");
        ProcessBuilder pb = new ProcessBuilder("mvn", "-q", "-B", "package").directory(EXAMPLE.toFile())
                .redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("building the example plugin failed:\n" + out);
        }
        if (!Files.exists(jar)) throw new IllegalStateException("the example build made no " + jar);
        return jar;
    }

    /** Writes a jar with the given manifest attributes and entries (name -> bytes). */
    static Path jar(Path file, Map<String, String> manifest, Map<String, byte[]> entries) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.forEach((k, v) -> mf.getMainAttributes().putValue(k, v));
        try (OutputStream os = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(os, mf)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                jar.putNextEntry(new JarEntry(e.getKey()));
                jar.write(e.getValue());
                jar.closeEntry();
            }
        }
        return file;
    }

    /** Writes a zip with exactly these entries (names as given, even unsafe ones). */
    static Path zip(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new java.util.zip.ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    /** Manifest attributes of a plugin jar; null values are left out. */
    static Map<String, String> manifest(String id, String version, String requires) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        if (id != null) m.put("Plugin-Id", id);
        if (version != null) m.put("Plugin-Version", version);
        if (requires != null) m.put("Plugin-Requires", requires);
        return m;
    }

    /** The entries of an existing jar except its manifest. */
    static Map<String, byte[]> entriesOf(Path jar) throws IOException {
        Map<String, byte[]> out = new java.util.LinkedHashMap<>();
        try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
            for (JarEntry e : java.util.Collections.list(j.entries())) {
                if (e.isDirectory() || e.getName().equals("META-INF/MANIFEST.MF")) continue;
                out.put(e.getName(), j.getInputStream(e).readAllBytes());
            }
        }
        return out;
    }

    /** Compiles Java sources (path -> text) against the test classpath; returns class files by entry name. */
    static Map<String, byte[]> compile(Path work, Map<String, String> sources) throws IOException {
        Path src = work.resolve("src"), out = work.resolve("classes");
        Files.createDirectories(out);
        List<String> args = new ArrayList<>(List.of("-proc:full", "-d", out.toString(), "-cp",
                System.getProperty("java.class.path")));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path f = src.resolve(e.getKey());
            Files.createDirectories(f.getParent());
            Files.writeString(f, e.getValue());
            args.add(f.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac.run(null, null, null, args.toArray(String[]::new)) != 0) throw new IllegalStateException("compile failed");
        Map<String, byte[]> classes = new java.util.LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(out)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                classes.put(out.relativize(f).toString(), Files.readAllBytes(f));
            }
        }
        return classes;
    }
}
