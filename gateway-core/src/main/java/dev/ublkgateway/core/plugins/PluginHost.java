package dev.ublkgateway.core.plugins;

import dev.ublkgateway.api.ApiVersion;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.ObjectStoreProvider;
import dev.ublkgateway.api.StageProvider;
import dev.ublkgateway.api.TargetProvider;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginManager;
import org.pf4j.PluginRepository;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads the built-in components and the plugin archives of a plugins directory through PF4J, and
 * indexes what each provides. A broken plugin (bad manifest, wrong API version, missing classes, failing
 * start, a name another plugin already provides) is set aside with a {@link PluginProblem}; the other
 * plugins and the built-ins are unaffected.
 */
public final class PluginHost implements AutoCloseable {
    public static final String DEFAULT_DIR = "/var/lib/ublk-gateway/plugins";
    /** What a plugin can provide: the kind's name (as in PluginProblem and Provided) to its interface. */
    static final Map<String, Class<?>> KINDS = new LinkedHashMap<>();
    static {
        KINDS.put("target", TargetProvider.class);
        KINDS.put("stage", StageProvider.class);
        KINDS.put("codec", ChunkCodecProvider.class);
        KINDS.put("store", ObjectStoreProvider.class);
    }

    private final Path dir;
    private final PluginManager manager;
    private final Map<String, Provided> byKey = new LinkedHashMap<>(); // kind + ":" + name
    private final List<PluginProblem> problems = new ArrayList<>();

    private PluginHost(Path dir) {
        this.dir = dir;
        List<Path> roots = new ArrayList<>();
        if (Files.isDirectory(dir)) roots.add(dir);
        bundledDir().filter(b -> !b.equals(dir)).ifPresent(roots::add);
        if (roots.isEmpty()) roots.add(dir); // PF4J treats a missing root as holding no plugins
        this.manager = new DefaultPluginManager(roots) {
            @Override
            protected PluginRepository createPluginRepository() {
                return new CheckedRepository(super.createPluginRepository());
            }
        };
    }

    /**
     * Sets aside, with a one-line problem, jars in a plugins directory that are no plugin archive (not
     * a zip, no manifest, no Plugin-Id...): PF4J would log each with a stack trace and load nothing
     * of it, and {@code plugins list} would not show it at all.
     */
    private final class CheckedRepository implements PluginRepository {
        private final PluginRepository inner;

        CheckedRepository(PluginRepository inner) {
            this.inner = inner;
        }

        @Override
        public List<Path> getPluginPaths() {
            List<Path> ok = new ArrayList<>();
            for (Path p : inner.getPluginPaths()) {
                if (Files.isRegularFile(p)) {
                    try {
                        PluginArchive.read(p);
                    } catch (IOException e) {
                        problems.add(new PluginProblem(p.getFileName().toString(), e.getMessage()));
                        continue;
                    }
                }
                ok.add(p);
            }
            return ok;
        }

        @Override
        public boolean deletePluginPath(Path p) {
            return inner.deletePluginPath(p);
        }
    }

    /**
     * The plugins that ship with the gateway (encryption, compression, s3), built into
     * target/bundled-plugins; the launcher names it with -Dublkgw.bundled.plugins. Loaded after the
     * plugins directory, so a plugin installed there with the same id is the one used.
     */
    static Optional<Path> bundledDir() {
        String p = System.getProperty("ublkgw.bundled.plugins", System.getenv("UBLKGW_BUNDLED_PLUGINS"));
        if (p == null || p.isBlank()) return Optional.empty();
        Path b = Path.of(p);
        return Files.isDirectory(b) ? Optional.of(b) : Optional.empty();
    }

    /** The plugins directory: an explicit choice, else $UBLKGW_PLUGINS_DIR, else {@link #DEFAULT_DIR}. */
    public static Path resolveDir(String explicit) {
        if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
        String env = System.getenv("UBLKGW_PLUGINS_DIR");
        return Path.of(env != null && !env.isBlank() ? env : DEFAULT_DIR);
    }

    /** Loads and starts everything; never throws for a bad plugin. */
    public static PluginHost load(Path dir) {
        PluginHost host = new PluginHost(dir);
        host.start();
        return host;
    }

    private void start() {
        // PF4J's own version check is off (system version 0.0.0): ours gives a clearer message.
        manager.setSystemVersion("0.0.0");
        try {
            manager.loadPlugins();
        } catch (RuntimeException e) {
            problems.add(new PluginProblem(dir.toString(), oneLine(e)));
        }
        for (PluginWrapper w : List.copyOf(manager.getPlugins())) {
            String why = ApiVersion.incompatibility(w.getDescriptor().getRequires());
            if (why != null) reject(w, why);
        }
        for (PluginWrapper w : List.copyOf(manager.getPlugins())) {
            try {
                manager.startPlugin(w.getPluginId());
            } catch (RuntimeException | LinkageError e) {
                reject(w, "failed to start: " + oneLine(e));
                continue;
            }
            if (w.getPluginState() == PluginState.FAILED) {
                reject(w, "failed to start: " + oneLine(w.getFailedException()));
            }
        }
        index(null); // built-ins first: a plugin cannot take over a built-in name
        for (PluginWrapper w : List.copyOf(manager.getStartedPlugins())) index(w);
    }

    /** Instantiates a plugin's (or the built-ins') extensions and registers their names. */
    private void index(PluginWrapper w) {
        String owner = w == null ? Provided.BUILT_IN : w.getPluginId();
        List<Provided> found = new ArrayList<>();
        try {
            for (Map.Entry<String, Class<?>> kind : KINDS.entrySet()) {
                for (Class<?> c : manager.getExtensionClasses(kind.getValue(), w == null ? null : w.getPluginId())) {
                    Object ext = c.getDeclaredConstructor().newInstance();
                    String name = nameOf(ext);
                    if (name == null || name.isBlank()) throw new IllegalStateException(c.getName() + " has no name");
                    found.add(new Provided(kind.getKey(), name, owner, ext));
                }
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            if (w == null) throw new IllegalStateException("built-in extension failed: " + oneLine(cause), cause);
            reject(w, "cannot create its extensions: " + oneLine(cause));
            return;
        }
        for (Provided p : found) {
            Provided clash = byKey.get(p.kind() + ":" + p.name());
            if (clash != null) {
                if (w == null) throw new IllegalStateException("two built-ins named " + p.name());
                reject(w, p.kind() + " type \"" + p.name() + "\" is already provided by " + clash.pluginId()
                        + "; remove one of the two plugins");
                return;
            }
        }
        for (Provided p : found) byKey.put(p.kind() + ":" + p.name(), p);
        if (w != null && found.isEmpty()) {
            problems.add(new PluginProblem(archive(w), "provides no stage, target, codec or store "
                    + "(no @Extension classes found; was it built with the PF4J annotation processor?)"));
        }
    }

    private static String nameOf(Object ext) {
        return switch (ext) {
            case StageProvider<?> s -> s.name();
            case TargetProvider<?> t -> t.name();
            case ChunkCodecProvider<?> c -> c.name();
            case ObjectStoreProvider<?> o -> o.name();
            default -> null;
        };
    }

    private void reject(PluginWrapper w, String why) {
        problems.add(new PluginProblem(archive(w), why));
        try {
            manager.stopPlugin(w.getPluginId());
        } catch (RuntimeException | LinkageError ignored) {
            // it is being set aside anyway
        }
        try {
            manager.unloadPlugin(w.getPluginId());
        } catch (RuntimeException | LinkageError ignored) {
            // as above
        }
    }

    private static String archive(PluginWrapper w) {
        return w.getPluginId() + " (" + w.getPluginPath().getFileName() + ")";
    }

    static String oneLine(Throwable e) {
        if (e == null) return "unknown error";
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String m = root.getMessage();
        String s = root.getClass().getSimpleName() + (m != null ? ": " + m : "");
        return s.replace('\n', ' ');
    }

    public Path dir() {
        return dir;
    }

    public List<PluginProblem> problems() {
        return List.copyOf(problems);
    }

    public List<Provided> provided() {
        return List.copyOf(byKey.values());
    }

    public Optional<Provided> find(String kind, String name) {
        return Optional.ofNullable(byKey.get(kind + ":" + name));
    }

    @SuppressWarnings("unchecked")
    public Optional<StageProvider<Record>> stage(String name) {
        return find("stage", name).map(p -> (StageProvider<Record>) p.provider());
    }

    @SuppressWarnings("unchecked")
    public Optional<TargetProvider<Record>> target(String name) {
        return find("target", name).map(p -> (TargetProvider<Record>) p.provider());
    }

    /** Started plugins: id, version, archive path. */
    public List<PluginWrapper> plugins() {
        return List.copyOf(manager.getStartedPlugins());
    }

    @Override
    public void close() {
        try {
            manager.stopPlugins();
        } catch (RuntimeException ignored) {
            // shutting down
        }
    }
}
