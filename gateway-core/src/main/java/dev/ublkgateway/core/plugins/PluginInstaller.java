package dev.ublkgateway.core.plugins;

import dev.ublkgateway.api.ApiVersion;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Installs and removes plugin archives. An archive is validated completely before anything is copied,
 * by reading it and never by running it: its entries and descriptor ({@link PluginArchive}), its API
 * version, its id (not a bundled plugin's, not an installed one's unless upgrading), its classes and
 * extension index ({@link ArchiveInspector}), and the constant names of its components against what the
 * built-ins and the plugins already there provide. Its constructor, static initializers and start()
 * run first when the gateway loads it; a failure there is reported by {@link PluginHost}.
 */
public final class PluginInstaller {
    private final Path dir;
    private final Optional<Path> bundled;

    public PluginInstaller(Path dir) {
        this(dir, PluginHost.bundledDir());
    }

    /** With the bundled plugins from {@code bundled} (tests choose their own). */
    PluginInstaller(Path dir, Optional<Path> bundled) {
        this.dir = dir;
        this.bundled = bundled;
    }

    /** Installs {@code archive}; returns its descriptor. Refuses an installed id unless {@code upgrade}. */
    public PluginArchive install(Path archive, boolean upgrade) throws IOException {
        PluginArchive a = PluginArchive.read(archive);
        refuseIf(a, ApiVersion.incompatibility(a.requires()));
        List<ArchiveInspector.Extension> extensions;
        try {
            extensions = ArchiveInspector.inspect(a);
        } catch (IOException e) {
            throw refusal(a, e.getMessage());
        }
        // what is installed already (never the new archive): the reserved ids and the names taken
        Optional<PluginArchive> existing;
        try (PluginHost host = PluginHost.load(dir, bundled)) {
            if (host.bundledIds().contains(a.id())) {
                refuseIf(a, PluginDirectoryRepository.reservedId(a.id()) + "; choose another Plugin-Id");
            }
            existing = find(a.id());
            if (existing.isPresent() && !upgrade) {
                throw new IOException("plugin " + a.id() + " " + existing.get().version() + " is already installed; "
                        + "use --upgrade to replace it with " + a.version());
            }
            Map<String, String> mine = new HashMap<>(); // kind:name -> class
            for (ArchiveInspector.Extension x : extensions) {
                if (x.name() == null) continue; // not a constant: checked when the gateway loads it
                for (String kind : x.kinds()) {
                    String other = mine.put(kind + ":" + x.name(), x.className());
                    if (other != null) {
                        refuseIf(a, "it provides " + kind + " type \"" + x.name() + "\" twice (" + other + " and "
                                + x.className() + "); give each its own name");
                    }
                    Optional<Provided> taken = host.find(kind, x.name()).filter(p -> !p.pluginId().equals(a.id()));
                    if (taken.isPresent()) {
                        String owner = taken.get().pluginId();
                        // built-ins and bundled plugins cannot be removed; an installed plugin can
                        boolean removable = !owner.equals(Provided.BUILT_IN) && !host.bundledIds().contains(owner);
                        refuseIf(a, kind + " type \"" + x.name() + "\" is already provided by " + owner + "; give "
                                + x.className() + " another name" + (removable ? " or remove plugin " + owner : ""));
                    }
                }
            }
        }
        Files.createDirectories(dir);
        if (existing.isPresent()) delete(existing.get());
        Files.copy(archive, dir.resolve(a.id() + "-" + a.version() + extension(archive)), StandardCopyOption.REPLACE_EXISTING);
        return a;
    }

    private static void refuseIf(PluginArchive a, String why) throws IOException {
        if (why != null) throw refusal(a, why);
    }

    private static IOException refusal(PluginArchive a, String why) {
        return new IOException("plugin " + a.id() + " (" + a.path().getFileName() + ") cannot be used: " + why);
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
