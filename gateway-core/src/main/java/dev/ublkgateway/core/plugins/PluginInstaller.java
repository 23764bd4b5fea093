package dev.ublkgateway.core.plugins;

import dev.ublkgateway.api.ApiVersion;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Installs and removes plugin archives. An archive is validated completely (descriptor, API version,
 * duplicates, and a trial load next to the plugins already installed) before anything is copied.
 */
public final class PluginInstaller {
    private final Path dir;

    public PluginInstaller(Path dir) {
        this.dir = dir;
    }

    /** Installs {@code archive}; returns its descriptor. Refuses an installed id unless {@code upgrade}. */
    public PluginArchive install(Path archive, boolean upgrade) throws IOException {
        PluginArchive a = PluginArchive.read(archive);
        String why = ApiVersion.incompatibility(a.requires());
        if (why != null) throw new IOException("plugin " + a.id() + " (" + archive.getFileName() + ") cannot be used: " + why);
        Optional<PluginArchive> existing = find(a.id());
        if (existing.isPresent() && !upgrade) {
            throw new IOException("plugin " + a.id() + " " + existing.get().version() + " is already installed; "
                    + "use --upgrade to replace it with " + a.version());
        }
        trialLoad(a, existing.orElse(null));
        Files.createDirectories(dir);
        if (existing.isPresent()) delete(existing.get());
        Files.copy(archive, dir.resolve(a.id() + "-" + a.version() + extension(archive)), StandardCopyOption.REPLACE_EXISTING);
        return a;
    }

    /** Loads the plugins as they would be after the install, in a scratch directory. */
    private void trialLoad(PluginArchive a, PluginArchive replaced) throws IOException {
        Path scratch = Files.createTempDirectory("ublkgw-plugin-check");
        try {
            for (PluginArchive other : PluginArchive.list(dir)) {
                if (replaced != null && other.id().equals(replaced.id())) continue;
                Files.copy(other.path(), scratch.resolve(other.path().getFileName()));
            }
            Files.copy(a.path(), scratch.resolve("zz-new-" + a.id() + extension(a.path())));
            try (PluginHost host = PluginHost.load(scratch)) {
                for (PluginProblem p : host.problems()) {
                    if (p.archive().startsWith(a.id() + " ") || p.archive().contains("zz-new-")) {
                        throw new IOException("plugin " + a.id() + " (" + a.path().getFileName() + ") cannot be used: " + p.message());
                    }
                }
                if (host.plugins().stream().noneMatch(w -> w.getPluginId().equals(a.id()))) {
                    throw new IOException("plugin " + a.id() + " (" + a.path().getFileName() + ") did not load; "
                            + "check that it is a PF4J plugin built against ublk-gateway's plugin-api");
                }
            }
        } finally {
            deleteTree(scratch);
        }
    }

    /** Removes an installed plugin by id. */
    public PluginArchive remove(String id) throws IOException {
        PluginArchive a = find(id).orElseThrow(() -> new IOException("no plugin with id " + id + " is installed in "
                + dir + "; see `ublk-gateway plugins list`"));
        delete(a);
        return a;
    }

    public Optional<PluginArchive> find(String id) throws IOException {
        return PluginArchive.list(dir).stream().filter(p -> p.id().equals(id)).findFirst();
    }

    private void delete(PluginArchive a) throws IOException {
        Files.deleteIfExists(a.path());
        // PF4J unpacks zip plugins into a directory named after the archive
        String name = a.path().getFileName().toString();
        if (name.endsWith(".zip")) deleteTree(dir.resolve(name.substring(0, name.length() - 4)));
    }

    private static String extension(Path p) {
        return p.toString().endsWith(".zip") ? ".zip" : ".jar";
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        }
    }
}
