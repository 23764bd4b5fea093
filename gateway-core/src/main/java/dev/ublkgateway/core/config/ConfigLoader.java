package dev.ublkgateway.core.config;

import dev.ublkgateway.api.Size;
import dev.ublkgateway.core.log.LogLevel;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Loads a device configuration file (each device is read by {@link DeviceReader}, its stages and
 * target by {@link ChainReader}):
 *
 * <pre>{@code
 * metrics-listen: 127.0.0.1:9810  # optional: serve Prometheus metrics at http://HOST:PORT/metrics
 * devices:
 *   - name: data0            # required, [a-z0-9][a-z0-9._-]{0,31}, unique
 *     size: 10GiB            # required, see Size; a positive multiple of block-size
 *     block-size: 4096       # 512, 1024, 2048 or 4096 (default 4096)
 *     queues: 2              # 1..64 (default 1)
 *     depth: 128             # 1..4096 (default 128)
 *     max-io-size: 512KiB    # power of two, 4KiB..32MiB (default 512KiB)
 *     recovery: false        # default false
 *     poll-us: 0             # ublk queue threads spin this long for a request before sleeping, 0..10000 (default 0)
 *     zero-copy: true        # ublk: the kernel's pages go straight to a file target where possible (default true)
 *     batch-io: false        # ublk: requests fetched and answered in batches where the kernel has BATCH_IO (default false)
 *     stages:                # optional; a request passes them in this order, then the target
 *       - type: stats        # a stage type of the ComponentTypes given
 *       - type: rate-limit   # with the type's options (see ComponentTypes, ConfigOption)
 *         iops: 1000
 *     target:
 *       type: file           # a target type of the ComponentTypes given
 *       path: data0.img      # the type's options
 * }</pre>
 *
 * Top-level keys starting with {@code x-} are ignored, so they can hold YAML anchors to merge
 * into devices ({@code <<: *defaults}). String options of stages and targets may use
 * {@code ${env:NAME}} for the value of an environment variable (<code>$${</code> for a literal
 * <code>${</code>). Secret options ({@link dev.ublkgateway.api.ConfigOption#secret()}) must be written
 * as {@code ${env:NAME}} or {@code file:PATH}, never inline.
 *
 * <p>Problems are reported as one {@link ConfigException} listing every problem found, each a
 * one-line message naming the file, line and column. Checking goes on past a problem wherever
 * the rest can still be checked: other keys of the device, other options, other stages, other
 * devices. Only a file that cannot be read or parsed as YAML stops at the first problem.
 */
public final class ConfigLoader {
    private static final java.util.Set<String> TOP_KEYS = java.util.Set.of("devices", "script", "metrics-listen", "log-level");

    private final Values values;
    private final ChainReader chains;

    private ConfigLoader(Values values, ComponentTypes types) {
        this.values = values;
        this.chains = new ChainReader(values, types);
    }

    /**
     * Reads, validates and binds a configuration file. Messages name the file as given;
     * {@link GatewayConfig#source()} is the absolute path. Relative paths are resolved against
     * the file's directory; {@code ${env:NAME}} reads the gateway's environment.
     *
     * @throws ConfigException with every problem in the file, or the reason it cannot be read
     */
    public static GatewayConfig load(Path file, ComponentTypes types) {
        return load(file, types, System::getenv);
    }

    /** As {@link #load(Path, ComponentTypes)}, with targets only. */
    @Deprecated
    public static GatewayConfig load(Path file, TargetTypes types) {
        return load(file, types.toComponentTypes());
    }

    static GatewayConfig load(Path file, ComponentTypes types, Function<String, String> environment) {
        return load(file, types, environment, false).config();
    }

    /**
     * A file checked where its secrets may not be: as {@link #load(Path, ComponentTypes)}, except that a
     * secret whose variable is unset or whose file cannot be read here is a note, not a problem (the
     * component it belongs to is then bound to {@link SecretNotHere}). Every other problem still throws.
     */
    public record Checked(GatewayConfig config, List<String> notes) {}

    public static Checked check(Path file, ComponentTypes types) {
        return check(file, types, System::getenv);
    }

    static Checked check(Path file, ComponentTypes types, Function<String, String> environment) {
        return load(file, types, environment, true);
    }

    private static Checked load(Path file, ComponentTypes types, Function<String, String> environment,
                                boolean secretsElsewhere) {
        String name = file.toString();
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(name, 0, 0, "cannot read the file (no such file); check the path", e);
        } catch (AccessDeniedException e) {
            throw new ConfigException(name, 0, 0,
                    "cannot read the file (permission denied); check its permissions", e);
        } catch (CharacterCodingException e) {
            throw new ConfigException(name, 0, 0, "the file is not valid UTF-8; save it as UTF-8", e);
        } catch (IOException e) {
            throw new ConfigException(name, 0, 0, "cannot read the file ("
                    + YamlReader.firstLine(e.getMessage()) + "); check the path and its permissions", e);
        }
        Path source = file.toAbsolutePath().normalize();
        return parse(text, name, source, source.getParent(), types, environment, secretsElsewhere);
    }

    /**
     * Parses configuration text, e.g. in tests. {@code sourceName} is used in messages; relative
     * paths are resolved against its directory (the working directory if it has none).
     */
    public static GatewayConfig parse(String yamlText, String sourceName, ComponentTypes types) {
        return parse(yamlText, sourceName, types, System::getenv);
    }

    /** As {@link #parse(String, String, ComponentTypes)}, with targets only. */
    @Deprecated
    public static GatewayConfig parse(String yamlText, String sourceName, TargetTypes types) {
        return parse(yamlText, sourceName, types.toComponentTypes());
    }

    /** As {@link #parse(String, String, ComponentTypes)}, reading variables from {@code environment}. */
    static GatewayConfig parse(String yamlText, String sourceName, ComponentTypes types,
                               Function<String, String> environment) {
        Path source;
        try {
            source = Path.of(sourceName).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            source = Path.of("").toAbsolutePath().resolve("config.yaml");
        }
        return parse(yamlText, sourceName, source, source.getParent(), types, environment, false).config();
    }

    private static Checked parse(String text, String name, Path source, Path baseDir, ComponentTypes types,
                                 Function<String, String> environment, boolean secretsElsewhere) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        Objects.requireNonNull(types, "types");
        Values values = new Values(name, baseDir == null ? Path.of("").toAbsolutePath() : baseDir,
                Objects.requireNonNull(environment, "environment"), secretsElsewhere);
        ConfigLoader loader = new ConfigLoader(values, types);
        GatewayConfig config = loader.read(text, source);
        if (values.problemCount() > 0) {
            throw ConfigException.of(values.problems());
        }
        return new Checked(config, List.copyOf(values.notes()));
    }

    /** The configuration, or null when a problem was recorded. */
    private GatewayConfig read(String text, Path source) {
        YamlNode root = YamlReader.read(text, values.source);
        if (root == null) {
            throw new ConfigException(values.source, 1, 1,
                    "the file is empty; declare the devices under a top-level \"devices:\" list");
        }
        if (!(root instanceof YamlNode.Mapping top)) {
            throw values.at(root, "the top level is " + root.describe()
                    + ", not a mapping; start the file with \"devices:\" and list the devices under it");
        }
        int unknownKeys = values.problemCount();
        for (YamlNode.Entry e : top.entries().values()) {
            if (!TOP_KEYS.contains(e.key()) && !e.key().startsWith("x-")) {
                values.report(values.at(e, "unknown top-level key \"" + e.key() + "\"; "
                        + Names.suggestion(e.key(), List.of("devices", "log-level", "metrics-listen"), "remove it or prefix it with x-")));
            }
        }
        YamlNode.Entry metrics = top.entry("metrics-listen");
        String metricsListen = metrics == null ? null : values.attempt(() -> metricsListen(metrics.value()));
        LogLevel logLevel = logLevel(top.entry("log-level"));
        YamlNode.Entry topScript = top.entry("script");
        ComponentSpec defaultScript = topScript == null ? null
                : values.attempt(() -> chains.script(topScript, "the top level"));
        DeviceReader deviceReader = new DeviceReader(values, chains, defaultScript);
        YamlNode.Entry devicesEntry = top.entry("devices");
        if (devicesEntry == null) {
            if (values.problemCount() > unknownKeys) {
                return null; // the unknown key is most likely the misspelt "devices"
            }
            values.report(values.at(top, "no \"devices\" key; list the devices under a top-level \"devices:\""));
            return null;
        }
        YamlNode list = devicesEntry.value();
        String noDevices = "no devices are declared; add at least one device under \"devices:\"";
        if (Values.isNull(list)) {
            values.report(values.at(devicesEntry, noDevices));
            return null;
        }
        if (list instanceof YamlNode.Sequence s && s.items().isEmpty()) {
            values.report(values.at(list, noDevices));
            return null;
        }
        if (!(list instanceof YamlNode.Sequence seq)) {
            values.report(values.typeError("devices", list, "a list",
                    "list the devices under \"devices:\", each starting with \"- name:\""));
            return null;
        }
        List<DeviceConfig> devices = new ArrayList<>();
        Map<String, YamlNode> seen = new HashMap<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            DeviceConfig device = deviceReader.read(item, i + 1);
            if (device != null) {
                devices.add(device);
            }
            // duplicates are found among valid names, even when the devices have other problems
            if (item instanceof YamlNode.Mapping m && m.entry("name") != null
                    && m.entry("name").value() instanceof YamlNode.Scalar s && !Values.isEmpty(s)
                    && DeviceConfig.NAME.matcher(s.text()).matches()) {
                YamlNode first = seen.putIfAbsent(s.text(), s);
                if (first != null) {
                    values.report(values.at(s, "duplicate device name \"" + s.text() + "\" (first at line "
                            + first.line() + "); give each device a unique name"));
                }
            }
        }
        return values.problemCount() > 0 ? null : new GatewayConfig(source, devices, metricsListen, Optional.ofNullable(logLevel));
    }

    /** metrics-listen: HOST:PORT, checked here so a typo fails at load time rather than at startup. */
    private String metricsListen(YamlNode node) {
        String fix = "write HOST:PORT, e.g. 127.0.0.1:9810";
        String text = values.string("metrics-listen", node, fix);
        try {
            dev.ublkgateway.core.metrics.MetricsAddress.parse(text);
        } catch (IllegalArgumentException e) {
            throw values.at(node, "metrics-listen: " + e.getMessage());
        }
        return text;
    }


    /** The top-level {@code log-level:}, or null when absent or reported as a problem. */
    private LogLevel logLevel(YamlNode.Entry e) {
        if (e == null) return null;
        for (LogLevel l : LogLevel.values()) {
            if (e.value() instanceof YamlNode.Scalar s && s.text().equals(l.name().toLowerCase(java.util.Locale.ROOT))) return l;
        }
        values.report(values.typeError("log-level", e.value(), "error, warn, info or debug",
                "write e.g. \"log-level: warn\" (`up --log-level` overrides it)"));
        return null;
    }
}
