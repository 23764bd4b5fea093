package dev.ublkgateway.core.plugins;

import dev.ublkgateway.api.ApiVersion;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.ObjectStoreProvider;
import dev.ublkgateway.api.StageProvider;
import dev.ublkgateway.api.TargetProvider;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginFactory;
import org.pf4j.PluginManager;
import org.pf4j.PluginRepository;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Loads the built-in components, the bundled plugins and the plugin archives of a plugins directory
 * through PF4J, and indexes what each provides. A broken plugin (bad manifest, unsafe entries, wrong API
 * version, missing classes, an exception in its constructor, static initializer or start, a name another
 * plugin already provides) is set aside with a {@link PluginProblem}; the other plugins and the built-ins
 * are unaffected. The ids of the bundled plugins are reserved: an archive in the plugins directory that
 * reuses one is set aside, as is one that reuses the id of an archive before it (in name order).
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
    private final PluginDirectoryRepository repository;
    private final ReportingPluginFactory factory = new ReportingPluginFactory();
    private final PluginManager manager;
    private final Map<String, Provided> byKey = new LinkedHashMap<>(); // kind + ":" + name
    private final List<PluginProblem> problems = new ArrayList<>();
    private final Set<Path> setAside = new HashSet<>(); // paths handed to PF4J whose plugin has a problem

    private PluginHost(Path dir, Optional<Path> bundled) {
        this.dir = dir;
        this.repository = new PluginDirectoryRepository(dir, bundled, problems::add);
        List<Path> roots = new ArrayList<>();
        roots.add(dir); // PF4J reads disabled.txt there; what it loads comes from the repository
        bundled.filter(b -> !b.equals(dir)).ifPresent(roots::add);
        this.manager = new DefaultPluginManager(roots) {
            {
                // a plugin whose dependencies are missing is set aside, not every plugin with it
                setResolveRecoveryStrategy(ResolveRecoveryStrategy.IGNORE_PLUGIN_AND_CONTINUE);
            }

            @Override
            protected PluginRepository createPluginRepository() {
                return repository;
            }

            @Override
            protected PluginFactory createPluginFactory() {
                return factory;
            }

            @Override
            protected PluginWrapper loadPluginFromPath(Path p) {
                try {
                    return super.loadPluginFromPath(p);
                } catch (RuntimeException e) {
                    // PF4J would log this and go on without the plugin
                    setAside.add(p);
                    problems.add(new PluginProblem(repository.fileName(p), "cannot be loaded: " + oneLine(e)));
                    throw e instanceof PluginRuntimeException pe ? pe : new PluginRuntimeException(e);
                }
            }
        };
    }

    /**
     * The plugins that ship with the gateway (chunked, encryption, compression, s3), built into
     * target/bundled-plugins; the launcher names it with -Dublkgw.bundled.plugins. Loaded before the
     * plugins directory; their ids are reserved (see {@link PluginInstaller}).
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
        return load(dir, bundledDir());
    }

    /** As {@link #load(Path)}, with the bundled plugins from {@code bundled} (tests choose their own). */
    static PluginHost load(Path dir, Optional<Path> bundled) {
        PluginHost host = new PluginHost(dir, bundled);
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
        for (PluginWrapper w : List.copyOf(manager.getResolvedPlugins())) {
            try {
                manager.startPlugin(w.getPluginId());
            } catch (RuntimeException | LinkageError e) {
                // a plugin class that could not be created shows up here as PF4J's NullPointerException
                Throwable own = factory.failure(w.getPluginId());
                reject(w, "failed to start: " + oneLine(own != null ? own : e));
                continue;
            }
            if (w.getPluginState() == PluginState.FAILED) {
                reject(w, "failed to start: " + oneLine(w.getFailedException()));
            }
        }
        index(null); // built-ins first: a plugin cannot take over a built-in name
        for (PluginWrapper w : List.copyOf(manager.getStartedPlugins())) index(w);
        reportNotStarted();
    }

    /** Whatever PF4J was given but did not start, and no problem explains yet (disabled, unresolved...). */
    private void reportNotStarted() {
        Set<Path> started = new HashSet<>();
        for (PluginWrapper w : manager.getStartedPlugins()) started.add(w.getPluginPath());
        for (Path p : repository.accepted()) {
            if (started.contains(p) || setAside.contains(p)) continue;
            PluginWrapper w = manager.getPlugins().stream().filter(x -> x.getPluginPath().equals(p)).findFirst().orElse(null);
            if (w == null) {
                problems.add(new PluginProblem(repository.fileName(p), "was not loaded; check it with "
                        + "`ublk-gateway plugins install` (it says what is wrong)"));
            } else if (w.getPluginState() == PluginState.DISABLED) {
                problems.add(new PluginProblem(archive(w), "is disabled (disabled.txt or enabled.txt in the plugins "
                        + "directory); remove it from there"));
            } else if (manager.getUnresolvedPlugins().contains(w)) {
                problems.add(new PluginProblem(archive(w), "its dependencies (Plugin-Dependencies: "
                        + w.getDescriptor().getDependencies() + ") are not installed; install them first"));
            } else {
                problems.add(new PluginProblem(archive(w), "was not started (state " + w.getPluginState() + ")"));
            }
        }
    }

    /** The ids of the plugins that ship with the gateway: no installed plugin may use them. */
    Set<String> bundledIds() {
        return repository.bundledIds();
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
                        + (clash.pluginId().equals(Provided.BUILT_IN) ? "; rename it in the plugin" : "; remove one of the two plugins"));
                return;
            }
        }
        for (Provided p : found) byKey.put(p.kind() + ":" + p.name(), p);
        if (w != null && found.isEmpty()) {
            setAside.add(w.getPluginPath());
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
        setAside.add(w.getPluginPath());
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

    private String archive(PluginWrapper w) {
        return w.getPluginId() + " (" + repository.fileName(w.getPluginPath()) + ")";
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
