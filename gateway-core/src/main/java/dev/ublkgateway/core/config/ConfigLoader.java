package dev.ublkgateway.core.config;

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
 *     target:
 *       type: file           # a type of the TargetTypes given
 *       path: data0.img      # the type's options (see TargetTypes, TargetOption)
 * }</pre>
 *
 * Top-level keys starting with {@code x-} are ignored, so they can hold YAML anchors to merge
 * into devices ({@code <<: *defaults}). Every problem is reported as a {@link ConfigException}
 * with a one-line message naming the file, line and column.
 */
public final class ConfigLoader {

    static final List<String> DEVICE_KEYS = List.of(
            "name", "size", "block-size", "queues", "depth", "max-io-size", "recovery", "target");
    private static final String NAME_RULE =
            "use 1 to 32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit";

    private final Values values;
    private final TargetTypes types;

    private ConfigLoader(Values values, TargetTypes types) {
        this.values = values;
        this.types = types;
    }

    /**
     * Reads, validates and binds a configuration file. Messages name the file as given;
     * {@link GatewayConfig#source()} is the absolute path. Relative target paths are resolved
     * against the file's directory.
     *
     * @throws ConfigException for any problem with the file, including when it cannot be read
     */
    public static GatewayConfig load(Path file, TargetTypes types) {
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
        return parse(text, name, source, source.getParent(), types);
    }

    /**
     * Parses configuration text, e.g. in tests. {@code sourceName} is used in messages; relative
     * target paths are resolved against its directory (the working directory if it has none).
     */
    public static GatewayConfig parse(String yamlText, String sourceName, TargetTypes types) {
        Path source;
        try {
            source = Path.of(sourceName).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            source = Path.of("").toAbsolutePath().resolve("config.yaml");
        }
        return parse(yamlText, sourceName, source, source.getParent(), types);
    }

    private static GatewayConfig parse(String text, String name, Path source, Path baseDir, TargetTypes types) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        Values values = new Values(name, baseDir == null ? Path.of("").toAbsolutePath() : baseDir);
        return new ConfigLoader(values, types).read(text, source);
    }

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
        for (YamlNode.Entry e : top.entries().values()) {
            if (!e.key().equals("devices") && !e.key().startsWith("x-")) {
                throw values.at(e, "unknown top-level key \"" + e.key() + "\"; "
                        + Names.suggestion(e.key(), List.of("devices"), "remove it or prefix it with x-"));
            }
        }
        YamlNode.Entry devicesEntry = top.entry("devices");
        if (devicesEntry == null) {
            throw values.at(top, "no \"devices\" key; list the devices under a top-level \"devices:\"");
        }
        YamlNode list = devicesEntry.value();
        String noDevices = "no devices are declared; add at least one device under \"devices:\"";
        if (Values.isNull(list)) {
            throw values.at(devicesEntry, noDevices);
        }
        if (list instanceof YamlNode.Sequence s && s.items().isEmpty()) {
            throw values.at(list, noDevices);
        }
        if (!(list instanceof YamlNode.Sequence seq)) {
            throw values.typeError("devices", list, "a list",
                    "list the devices under \"devices:\", each starting with \"- name:\"");
        }
        List<DeviceConfig> devices = new ArrayList<>();
        Map<String, YamlNode> seen = new HashMap<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            DeviceConfig device = device(item, i + 1);
            YamlNode nameNode = ((YamlNode.Mapping) item).entry("name").value();
            YamlNode first = seen.putIfAbsent(device.name(), nameNode);
            if (first != null) {
                throw values.at(nameNode, "duplicate device name \"" + device.name() + "\" (first at line "
                        + first.line() + "); give each device a unique name");
            }
            devices.add(device);
        }
        return new GatewayConfig(source, devices);
    }

    private DeviceConfig device(YamlNode item, int index) {
        if (!(item instanceof YamlNode.Mapping m)) {
            throw values.at(item, "device #" + index + " is " + item.describe()
                    + ", not a mapping; write each device as a mapping with name:, size: and target:");
        }
        YamlNode.Entry nameEntry = m.entry("name");
        String label = nameEntry != null && nameEntry.value() instanceof YamlNode.Scalar s
                && !Values.isEmpty(s) ? "device \"" + s.text() + "\"" : "device #" + index;
        for (YamlNode.Entry e : m.entries().values()) {
            if (!DEVICE_KEYS.contains(e.key())) {
                throw values.at(e, "unknown key \"" + e.key() + "\" in " + label + "; "
                        + Names.suggestion(e.key(), DEVICE_KEYS, "remove it"));
            }
        }

        YamlNode nameNode = required(m, "name", label, "add name: <name>, e.g. name: data0");
        String name = values.string("name", nameNode, NAME_RULE);
        if (!DeviceConfig.NAME.matcher(name).matches()) {
            throw values.at(nameNode, "device name " + Size.quote(name) + " is invalid; " + NAME_RULE);
        }

        int blockSize = DeviceConfig.DEFAULT_BLOCK_SIZE;
        YamlNode.Entry bs = m.entry("block-size");
        if (bs != null) {
            long v = values.size("block-size", bs.value()).bytes();
            if (!DeviceConfig.isPowerOfTwo(v) || v < DeviceConfig.MIN_BLOCK_SIZE || v > DeviceConfig.MAX_BLOCK_SIZE) {
                throw values.at(bs.value(), "block-size " + bs.value().describe()
                        + " is not supported; use 512, 1024, 2048 or 4096");
            }
            blockSize = (int) v;
        }

        YamlNode sizeNode = required(m, "size", label, "add size: <size>, e.g. size: 10GiB");
        long size = values.size("size", sizeNode).bytes();
        if (size == 0) {
            throw values.at(sizeNode, "size " + sizeNode.describe() + " is zero; use a positive size, e.g. 10GiB");
        }
        if (size % blockSize != 0) {
            long down = size / blockSize * blockSize;
            long up = down + blockSize;
            String options = down > 0 ? Size.compact(down) + " or " + Size.compact(up) : Size.compact(up);
            throw values.at(sizeNode, "size " + sizeNode.describe() + " is not a multiple of block-size "
                    + blockSize + "; use a multiple, e.g. " + options);
        }

        int queues = DeviceConfig.DEFAULT_QUEUES;
        YamlNode.Entry q = m.entry("queues");
        if (q != null) {
            queues = (int) values.integer("queues", q.value(), 1, DeviceConfig.MAX_QUEUES);
        }
        int depth = DeviceConfig.DEFAULT_DEPTH;
        YamlNode.Entry d = m.entry("depth");
        if (d != null) {
            depth = (int) values.integer("depth", d.value(), 1, DeviceConfig.MAX_DEPTH);
        }
        int maxIo = DeviceConfig.DEFAULT_MAX_IO_BYTES;
        YamlNode.Entry mi = m.entry("max-io-size");
        if (mi != null) {
            long v = values.size("max-io-size", mi.value()).bytes();
            if (!DeviceConfig.isPowerOfTwo(v) || v < DeviceConfig.MIN_MAX_IO_BYTES
                    || v > DeviceConfig.MAX_MAX_IO_BYTES) {
                throw values.at(mi.value(), "max-io-size " + mi.value().describe()
                        + " is not a power of two from 4KiB to 32MiB; use e.g. 512KiB");
            }
            maxIo = (int) v;
        }
        boolean recovery = false;
        YamlNode.Entry r = m.entry("recovery");
        if (r != null) {
            recovery = values.bool("recovery", r.value());
        }

        YamlNode targetNode = required(m, "target", label,
                "add target: with type: and the target's options, e.g. target: {type: memory}");
        TargetSpec target = target(targetNode, label);
        return new DeviceConfig(name, size, blockSize, queues, depth, maxIo, recovery, target);
    }

    private YamlNode required(YamlNode.Mapping m, String key, String label, String fix) {
        YamlNode.Entry e = m.entry(key);
        if (e == null) {
            throw values.at(m, label + " has no \"" + key + "\"; " + fix);
        }
        return e.value();
    }

    private TargetSpec target(YamlNode node, String label) {
        String known = String.join(", ", types.names());
        if (!(node instanceof YamlNode.Mapping t)) {
            throw values.typeError("target", node, "a mapping",
                    "write target: as a mapping with type: and the target's options");
        }
        YamlNode.Entry typeEntry = t.entry("type");
        if (typeEntry == null) {
            throw values.at(t, "the target of " + label + " has no \"type\"; add type: <type>, one of " + known);
        }
        String type = values.string("type", typeEntry.value(), "use one of " + known);
        Class<?> configClass = types.configClass(type).orElseThrow(() -> {
            String near = Names.closest(type, types.names());
            return values.at(typeEntry.value(), "unknown target type " + Size.quote(type) + "; "
                    + (near != null ? "did you mean \"" + near + "\"? (known: " + known + ")" : "known: " + known));
        });
        Object config = new TargetBinder(values).bind(type, configClass, t, label);
        var options = t.toJson();
        options.remove("type");
        return new TargetSpec(type, options, t.line(), t.column(), config);
    }
}
