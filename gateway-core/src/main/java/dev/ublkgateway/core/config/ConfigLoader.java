package dev.ublkgateway.core.config;

import dev.ublkgateway.core.sys.Endpoint;

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
import java.util.Set;
import java.util.function.Function;

/**
 * Loads a device configuration file:
 *
 * <pre>{@code
 * devices:
 *   - name: data0            # required, [a-z0-9][a-z0-9._-]{0,31}, unique
 *     size: 10GiB            # required, see Size; a positive multiple of block-size
 *     block-size: 4096       # 512, 1024, 2048 or 4096 (default 4096)
 *     queues: 2              # 1..64 (default 1)
 *     depth: 128             # 1..4096 (default 128)
 *     max-io-size: 512KiB    # power of two, 4KiB..32MiB (default 512KiB)
 *     recovery: false        # default false
 *     poll-us: 0             # ublk queue threads spin this long for a request before sleeping, 0..10000 (default 0)
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

    static final List<String> DEVICE_KEYS = List.of(
            "name", "size", "block-size", "queues", "depth", "max-io-size", "recovery", "stages", "target", "script",
            "frontend", "nbd-listen", "nbd-max-connections", "poll-us");
    private static final String NAME_RULE =
            "use 1 to 32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit";

    private final Values values;
    private final ComponentTypes types;
    /** The top-level {@code script:}, for devices without their own; null when there is none. */
    private StageSpec defaultScript;

    private ConfigLoader(Values values, ComponentTypes types) {
        this.values = values;
        this.types = types;
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
            if (!e.key().equals("devices") && !e.key().equals("script") && !e.key().startsWith("x-")) {
                values.report(values.at(e, "unknown top-level key \"" + e.key() + "\"; "
                        + Names.suggestion(e.key(), List.of("devices"), "remove it or prefix it with x-")));
            }
        }
        YamlNode.Entry topScript = top.entry("script");
        if (topScript != null) {
            defaultScript = values.attempt(() -> script(topScript, "the top level"));
        }
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
            DeviceConfig device = device(item, i + 1);
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
        return values.problemCount() > 0 ? null : new GatewayConfig(source, devices);
    }

    /** The device, or null when a problem was recorded. */
    private DeviceConfig device(YamlNode item, int index) {
        if (!(item instanceof YamlNode.Mapping m)) {
            values.report(values.at(item, "device #" + index + " is " + item.describe()
                    + ", not a mapping; write each device as a mapping with name:, size: and target:"));
            return null;
        }
        int before = values.problemCount();
        YamlNode.Entry nameEntry = m.entry("name");
        String label = nameEntry != null && nameEntry.value() instanceof YamlNode.Scalar s
                && !Values.isEmpty(s) ? "device \"" + s.text() + "\"" : "device #" + index;
        for (YamlNode.Entry e : m.entries().values()) {
            if (!DEVICE_KEYS.contains(e.key())) {
                values.report(values.at(e, "unknown key \"" + e.key() + "\" in " + label + "; "
                        + Names.suggestion(e.key(), DEVICE_KEYS, "remove it")));
            }
        }

        String name = null;
        YamlNode nameNode = required(m, "name", label, "add name: <name>, e.g. name: data0");
        if (nameNode != null) {
            name = values.attempt(() -> {
                String n = values.string("name", nameNode, NAME_RULE);
                if (!DeviceConfig.NAME.matcher(n).matches()) {
                    throw values.at(nameNode, "device name " + Size.quote(n) + " is invalid; " + NAME_RULE);
                }
                return n;
            });
        }

        Integer blockSize = DeviceConfig.DEFAULT_BLOCK_SIZE;
        YamlNode.Entry bs = m.entry("block-size");
        if (bs != null) {
            blockSize = values.attempt(() -> {
                long v = values.size("block-size", bs.value()).bytes();
                if (!DeviceConfig.isPowerOfTwo(v) || v < DeviceConfig.MIN_BLOCK_SIZE
                        || v > DeviceConfig.MAX_BLOCK_SIZE) {
                    throw values.at(bs.value(), "block-size " + bs.value().describe()
                            + " is not supported; use 512, 1024, 2048 or 4096");
                }
                return (int) v;
            });
        }

        YamlNode sizeNode = required(m, "size", label, "add size: <size>, e.g. size: 10GiB");
        Long size = null;
        if (sizeNode != null) {
            Integer bsValue = blockSize;
            size = values.attempt(() -> size(sizeNode, bsValue));
        }

        Integer queues = DeviceConfig.DEFAULT_QUEUES;
        YamlNode.Entry q = m.entry("queues");
        if (q != null) {
            queues = values.attempt(() -> (int) values.integer("queues", q.value(), 1, DeviceConfig.MAX_QUEUES));
        }
        Integer depth = DeviceConfig.DEFAULT_DEPTH;
        YamlNode.Entry d = m.entry("depth");
        if (d != null) {
            depth = values.attempt(() -> (int) values.integer("depth", d.value(), 1, DeviceConfig.MAX_DEPTH));
        }
        Integer maxIo = DeviceConfig.DEFAULT_MAX_IO_BYTES;
        YamlNode.Entry mi = m.entry("max-io-size");
        if (mi != null) {
            maxIo = values.attempt(() -> {
                long v = values.size("max-io-size", mi.value()).bytes();
                if (!DeviceConfig.isPowerOfTwo(v) || v < DeviceConfig.MIN_MAX_IO_BYTES
                        || v > DeviceConfig.MAX_MAX_IO_BYTES) {
                    throw values.at(mi.value(), "max-io-size " + mi.value().describe()
                            + " is not a power of two from 4KiB to 32MiB; use e.g. 512KiB");
                }
                return (int) v;
            });
        }
        Boolean recovery = false;
        YamlNode.Entry r = m.entry("recovery");
        if (r != null) {
            recovery = values.attempt(() -> values.bool("recovery", r.value()));
        }

        FrontendConfig frontend = values.attempt(() -> frontend(m));

        List<StageSpec> stages = List.of();
        YamlNode.Entry st = m.entry("stages");
        if (st != null) {
            stages = stages(st.value(), label);
        }

        YamlNode.Entry scriptEntry = m.entry("script");
        StageSpec script = scriptEntry != null ? values.attempt(() -> script(scriptEntry, label)) : defaultScript;
        if (script != null && stages.stream().noneMatch(s -> s.type().equals(script.type()))) {
            List<StageSpec> withScript = new ArrayList<>(stages);
            withScript.addFirst(script); // the policy hook runs before the other stages
            stages = withScript;
        }

        TargetSpec target = null;
        YamlNode targetNode = required(m, "target", label,
                "add target: with type: and the target's options, e.g. target: {type: memory}");
        if (targetNode != null) {
            target = values.attempt(() -> target(targetNode, label));
        }
        checkOrder(st == null ? null : st.value(), targetNode, label);

        if (values.problemCount() > before) {
            return null;
        }
        return new DeviceConfig(name, size, blockSize, queues, depth, maxIo, recovery, target, stages, frontend);
    }

    /** frontend:, nbd-listen: (one address or a list), nbd-max-connections: and poll-us:. */
    private FrontendConfig frontend(YamlNode.Mapping m) {
        String kind = "auto";
        YamlNode.Entry f = m.entry("frontend");
        if (f != null) {
            kind = values.string("frontend", f.value(), "use ublk, nbd or auto");
            if (!FrontendConfig.KINDS.contains(kind)) {
                throw values.at(f.value(), "frontend " + Size.quote(kind) + " is not known; use ublk, nbd or auto");
            }
        }
        List<String> listen = new ArrayList<>();
        YamlNode.Entry l = m.entry("nbd-listen");
        if (l != null) {
            List<YamlNode> items = l.value() instanceof YamlNode.Sequence seq ? seq.items() : List.of(l.value());
            for (YamlNode item : items) {
                String a = values.string("nbd-listen", item, "use unix:/path/to.sock or host:port, e.g. 127.0.0.1:10809");
                try {
                    Endpoint.parse(a, 0); // the syntax only: the frontend picks the default port
                } catch (IllegalArgumentException e) {
                    throw values.at(item, "nbd-listen " + e.getMessage() + "; use unix:/path/to.sock or host:port, e.g. 127.0.0.1:10809");
                }
                listen.add(a);
            }
        }
        int max = FrontendConfig.DEFAULT_NBD_MAX_CONNECTIONS;
        YamlNode.Entry mc = m.entry("nbd-max-connections");
        if (mc != null) max = (int) values.integer("nbd-max-connections", mc.value(), 1, 4096);
        YamlNode.Entry pu = m.entry("poll-us");
        int poll = pu == null ? FrontendConfig.DEFAULT.pollMicros() : (int) values.integer("poll-us", pu.value(), 0, FrontendConfig.MAX_POLL_MICROS);
        return new FrontendConfig(kind, listen, max, poll);
    }

    /**
     * {@code script: path.js} or {@code script: {path: ..., fail: open, ...}} (on a device, or at the top
     * level for every device without its own): the {@code script} stage, which the chain puts first.
     */
    private StageSpec script(YamlNode.Entry entry, String label) {
        Class<?> configClass = types.stageClass("script").orElseThrow(() -> values.at(entry,
                "script: needs the script stage, which is not available here; remove script:"));
        YamlNode.Mapping mapping;
        if (entry.value() instanceof YamlNode.Mapping given) {
            mapping = given;
        } else if (entry.value() instanceof YamlNode.Scalar s && !Values.isEmpty(s)) {
            mapping = new YamlNode.Mapping(Map.of("path", new YamlNode.Entry("path", s.line(), s.column(), s)),
                    s.line(), s.column());
        } else {
            throw values.typeError("script", entry.value(), "a path or a mapping",
                    "write script: policy.js, or script: {path: policy.js, fail: open, timeout-ms: 20}");
        }
        Object config = new ComponentBinder(values, "stage", "under script:").bind("script", configClass, mapping, label);
        if (config == null) {
            return null;
        }
        var options = mapping.toJson();
        options.remove("type");
        return new StageSpec("script", options, entry.line(), entry.column(), config);
    }

    private long size(YamlNode sizeNode, Integer blockSize) {
        long size = values.size("size", sizeNode).bytes();
        if (size == 0) {
            throw values.at(sizeNode, "size " + sizeNode.describe() + " is zero; use a positive size, e.g. 10GiB");
        }
        if (blockSize != null && size % blockSize != 0) {
            long down = size / blockSize * blockSize;
            long up = down + blockSize; // negative when the next multiple is beyond the largest size
            String options = down == 0 ? Size.compact(up)
                    : up < 0 ? Size.compact(down) : Size.compact(down) + " or " + Size.compact(up);
            throw values.at(sizeNode, "size " + sizeNode.describe() + " is not a multiple of block-size "
                    + blockSize + "; use a multiple, e.g. " + options);
        }
        return size;
    }

    /** The value of a required key, or null after recording that it is missing. */
    private YamlNode required(YamlNode.Mapping m, String key, String label, String fix) {
        YamlNode.Entry e = m.entry(key);
        if (e == null) {
            values.report(values.at(m, label + " has no \"" + key + "\"; " + fix));
            return null;
        }
        return e.value();
    }

    private TargetSpec target(YamlNode node, String label) {
        String known = String.join(", ", types.targetNames());
        if (!(node instanceof YamlNode.Mapping t)) {
            throw values.typeError("target", node, "a mapping",
                    "write target: as a mapping with type: and the target's options");
        }
        YamlNode.Entry typeEntry = t.entry("type");
        if (typeEntry == null) {
            throw values.at(t, "the target of " + label + " has no \"type\"; add type: <type>, one of " + known);
        }
        String type = values.string("type", typeEntry.value(), "use one of " + known);
        Class<?> configClass = types.targetClass(type).orElseThrow(
                () -> unknownType("target", type, typeEntry.value(), types.targetNames()));
        Object config = new ComponentBinder(values, "target", "under target:", types).bind(type, configClass, t, label);
        if (config == null) {
            return null;
        }
        var options = t.toJson();
        options.remove("type");
        return new TargetSpec(type, options, t.line(), t.column(), config);
    }

    /** The bound stages; problems are recorded (the list then misses the stages that had one). */
    private List<StageSpec> stages(YamlNode node, String label) {
        if (Values.isNull(node)) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence seq)) {
            values.report(values.typeError("stages", node, "a list",
                    "list the stages under stages:, each as a mapping starting with \"- type:\""));
            return List.of();
        }
        List<StageSpec> stages = new ArrayList<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            String stageLabel = "stage #" + (i + 1) + " of " + label;
            StageSpec spec = values.attempt(() -> stage(item, stageLabel, label));
            if (spec != null) {
                stages.add(spec);
            }
        }
        return stages;
    }

    private StageSpec stage(YamlNode node, String stageLabel, String label) {
        if (!(node instanceof YamlNode.Mapping s)) {
            throw values.at(node, stageLabel + " is " + node.describe()
                    + ", not a mapping; write each stage as a mapping with type: and the stage's options,"
                    + " e.g. - type: stats");
        }
        YamlNode.Entry typeEntry = s.entry("type");
        String known = types.stageNames().isEmpty() ? "(none)" : String.join(", ", types.stageNames());
        if (typeEntry == null) {
            throw values.at(s, stageLabel + " has no \"type\"; add type: <type>, one of " + known);
        }
        String type = values.string("type", typeEntry.value(), "use one of " + known);
        Class<?> configClass = types.stageClass(type).orElseThrow(
                () -> unknownType("stage", type, typeEntry.value(), types.stageNames()));
        Object config = new ComponentBinder(values, "stage", "to the stage").bind(type, configClass, s, label);
        if (config == null) {
            return null;
        }
        var options = s.toJson();
        options.remove("type");
        return new StageSpec(type, options, s.line(), s.column(), config);
    }

    private ConfigException unknownType(String kind, String type, YamlNode at, Set<String> names) {
        if (names.isEmpty()) {
            return values.at(at, "unknown " + kind + " type " + Size.quote(type) + "; remove the " + kind
                    + " (no " + kind + " types are available)");
        }
        String known = String.join(", ", names);
        String near = Names.closest(type, names);
        return values.at(at, "unknown " + kind + " type " + Size.quote(type) + "; "
                + (near != null ? "did you mean \"" + near + "\"? (known: " + known + ")" : "known: " + known));
    }

    /**
     * Applies the ordering rule to each stage and what follows it (the next stage, or the target
     * after the last), reporting at the stage that may not come first. Types are taken as written,
     * so a stage whose options have a problem still takes part; unknown types are skipped (they
     * are reported already).
     */
    private void checkOrder(YamlNode stagesNode, YamlNode targetNode, String label) {
        if (!(stagesNode instanceof YamlNode.Sequence seq) || seq.items().isEmpty()) {
            return;
        }
        int n = seq.items().size();
        List<String> chain = new ArrayList<>(n + 1);
        for (YamlNode item : seq.items()) {
            chain.add(writtenType(item, types.stageNames()));
        }
        chain.add(writtenType(targetNode, types.targetNames()));
        for (int i = 0; i < n; i++) {
            String stage = chain.get(i);
            String next = chain.get(i + 1);
            if (stage == null || next == null) {
                continue;
            }
            String problem = types.ordering().problem(stage, next);
            if (problem != null) {
                String what = i + 1 < n ? "stage \"" + next + "\"" : "target \"" + next + "\"";
                values.report(values.at(seq.items().get(i), "stage \"" + stage + "\" cannot precede " + what
                        + " in " + label + " (" + ConfigException.oneLine(problem) + "); reorder or remove the stages"));
            }
        }
    }

    /** The {@code type:} of a stage or target mapping if it is one of {@code known}, else null. */
    private static String writtenType(YamlNode node, Set<String> known) {
        if (node instanceof YamlNode.Mapping m && m.entry("type") != null
                && m.entry("type").value() instanceof YamlNode.Scalar s && known.contains(s.text())) {
            return s.text();
        }
        return null;
    }
}
