package dev.ublkgateway.core.plugins;

import org.pf4j.PluginRepository;
import org.pf4j.util.FileUtils;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * What PF4J may load: the bundled plugins first, then the archives of the plugins directory in name
 * order. An archive is handed to PF4J only once it has been read and checked without running any of it
 * ({@link PluginArchive#read}, {@link ArchiveInspector}); one that fails, that reuses a bundled plugin's
 * id or the id of an archive before it, is set aside with a {@link PluginProblem} instead of being left
 * to PF4J, which would log it and skip it, so {@code plugins list} would not show it at all. A zip is
 * unpacked (by PF4J, beside it) only after its entries were checked.
 */
final class PluginDirectoryRepository implements PluginRepository {
    private final Path dir;
    private final Optional<Path> bundled;
    private final Consumer<PluginProblem> problems;
    private final Map<Path, String> fileNames = new HashMap<>(); // path handed to PF4J -> archive's file name
    private final Map<String, String> bundledIds = new LinkedHashMap<>(); // id -> archive's file name
    private List<Path> paths;

    PluginDirectoryRepository(Path dir, Optional<Path> bundled, Consumer<PluginProblem> problems) {
        this.dir = dir;
        this.bundled = bundled.filter(b -> !b.equals(dir));
        this.problems = problems;
    }

    @Override
    public List<Path> getPluginPaths() {
        if (paths != null) return paths;
        paths = new ArrayList<>();
        Map<String, String> ids = new HashMap<>(); // id -> file name of the archive that has it
        if (bundled.isPresent()) {
            for (Path p : candidates(bundled.get())) accept(p, true, ids);
        }
        for (Path p : candidates(dir)) accept(p, false, ids);
        return paths;
    }

    /** The ids of the plugins that ship with the gateway: reserved for them. */
    Set<String> bundledIds() {
        getPluginPaths();
        return new LinkedHashSet<>(bundledIds.keySet());
    }

    /** The file name of the archive a path handed to PF4J came from (a zip's, for its unpacked folder). */
    String fileName(Path loaded) {
        return fileNames.getOrDefault(loaded, loaded.getFileName().toString());
    }

    /** Every path handed to PF4J. */
    List<Path> accepted() {
        return List.copyOf(getPluginPaths());
    }

    private void accept(Path p, boolean isBundled, Map<String, String> ids) {
        String file = p.getFileName().toString();
        PluginArchive a;
        try {
            a = PluginArchive.read(p);
        } catch (IOException e) {
            problems.accept(new PluginProblem(file, e.getMessage()));
            return;
        }
        String label = a.id() + " (" + file + ")";
        if (!isBundled && bundledIds.containsKey(a.id())) {
            problems.accept(new PluginProblem(label, reservedId(a.id()) + "; remove " + file
                    + " from the plugins directory or rebuild it with another Plugin-Id"));
            return;
        }
        String first = ids.get(a.id());
        if (first != null) {
            problems.accept(new PluginProblem(label, "plugin id \"" + a.id() + "\" is also used by " + first
                    + ", which is loaded instead; remove one of the two"));
            return;
        }
        if (!isBundled && PluginArchive.isArchiveFile(p)) {
            try {
                ArchiveInspector.inspect(a);
            } catch (IOException e) {
                problems.accept(new PluginProblem(label, e.getMessage()));
                return;
            }
        }
        Path loaded = p;
        if (file.endsWith(".zip")) {
            try {
                loaded = FileUtils.expandIfZip(p);
            } catch (IOException e) {
                problems.accept(new PluginProblem(label, "cannot be unpacked beside " + file + " (" + e.getMessage()
                        + "); check that the plugins directory is writable"));
                return;
            }
        }
        ids.put(a.id(), file);
        if (isBundled) bundledIds.put(a.id(), file);
        fileNames.put(loaded, file);
        paths.add(loaded);
    }

    /** Why an installed plugin may not have a bundled plugin's id. */
    static String reservedId(String id) {
        return "id \"" + id + "\" belongs to a plugin that ships with ublk-gateway";
    }

    /** Archives in a root, by name: jars, zips, and folders that are not a zip's unpacked copy. */
    private List<Path> candidates(Path root) {
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> PluginArchive.isArchiveFile(p) || Files.isDirectory(p)
                            && !Files.exists(p.resolveSibling(p.getFileName() + ".zip"))
                            && Files.isRegularFile(p.resolve("plugin.properties")))
                    .sorted().toList();
        } catch (IOException e) {
            problems.accept(new PluginProblem(root.toString(), "cannot be listed (" + e.getMessage() + "); check its permissions"));
            return List.of();
        }
    }

    @Override
    public boolean deletePluginPath(Path p) {
        return false; // archives are removed by PluginInstaller, never by PF4J
    }
}
