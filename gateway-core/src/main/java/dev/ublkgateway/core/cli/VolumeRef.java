package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.TargetProvider;
import dev.ublkgateway.api.Volume;
import dev.ublkgateway.core.config.ConfigException;
import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.ChainFactory;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where a volume is and how its chunks are encoded, from either a device of a YAML file (its target's
 * store, chunk size and codecs, as `up` would use them) or a store URL ({@link StoreUrl}) with the
 * volume's name, codecs and chunk size given as options (for an existing volume, taken from its
 * metadata unless given).
 */
final class VolumeRef {
    /** The options that say where the volume is; every `volume` subcommand has them. */
    static final class Options {
        @Option(names = "--config", paramLabel = "FILE.yaml", description = "a YAML file whose device --device is the volume")
        Path config;

        @Option(names = "--device", paramLabel = "NAME", description = "the device of --config (default: the volume name)")
        String device;

        @Option(names = "--store", paramLabel = "URL", description = "a store of volumes: dir:PATH or "
                + "s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&path-style=true&...] (any s3 store option; "
                + "secrets as ${env:NAME} or file:PATH, or the AWS credential chain)")
        String store;

        @Option(names = "--codecs", paramLabel = "YAML", description = "with --store: the codecs as in YAML, e.g. "
                + "'[{type: zstd}, {type: aes-gcm, key: \"${env:VOLKEY}\"}]' (default for an existing volume: "
                + "its codecs without options)")
        String codecs;

        @Option(names = "--chunk-size", paramLabel = "SIZE", description = "with --store, for a new volume: bytes per "
                + "chunk, a power of two from 64KiB to 64MiB (default 1MiB)")
        String chunkSize;
    }

    /** A volume ready for operations, with the device's size when it came from a YAML device (else -1). */
    record Opened(Volume volume, String name, long deviceSize, String where) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            volume.close();
        }
    }

    private final Options o;
    private final PluginHost host;
    private final ChainFactory chains;

    VolumeRef(Options o, PluginHost host) {
        this.o = o;
        this.host = host;
        this.chains = new ChainFactory(host);
        if (o.config == null && o.store == null) {
            throw new IllegalArgumentException("say where the volume is: --config FILE.yaml [--device NAME], or --store URL");
        }
        if (o.config != null && o.store != null) throw new IllegalArgumentException("give --config or --store, not both");
        if (o.store != null && o.device != null) throw new IllegalArgumentException("--device goes with --config, not --store");
        if (o.config != null && (o.codecs != null || o.chunkSize != null)) {
            throw new IllegalArgumentException("--codecs and --chunk-size go with --store; with --config they come from the device");
        }
    }

    /** A volume name given as an argument (not --device), checked. */
    String validName(String n) {
        if (!DeviceConfig.NAME.matcher(n).matches()) {
            throw new IllegalArgumentException("volume name \"" + n + "\" is invalid; use lower-case letters, digits, . _ - (up to 32),"
                    + " as for a device");
        }
        return n;
    }

    /**
     * The new volume {@code child} for a clone of {@code parent}: with --config its device; with --store the
     * parent's chunk size and codecs (--codecs gives their options, e.g. the key).
     */
    Opened openClone(String child, String parent) throws IOException {
        if (o.config != null) return fromDevice(child);
        if (o.chunkSize != null) throw new IllegalArgumentException("--chunk-size does not go with clone: a clone has its parent's");
        StoreUrl url = StoreUrl.parse(o.store);
        requireStoreFolder(url, parent);
        Volume.VolumeStatus st;
        try (Opened probe = fromUrl(url, parent, Size.MiB, "1MiB", "[]", "--store")) {
            st = probe.volume().status().orElseThrow(() -> new IOException("no volume " + parent + " in " + url.location()
                    + "; check the name (ublk-gateway volume list --store " + o.store + ")"));
        }
        String codecs = o.codecs;
        if (codecs == null) codecs = "[" + String.join(", ", st.codecs().stream().map(c -> "{type: " + StoreUrl.quote(c) + "}").toList()) + "]";
        try {
            return fromUrl(url, child, st.sizeBytes(), Size.compact(st.chunkBytes()), codecs, "--codecs");
        } catch (ConfigException e) {
            if (o.codecs != null) throw e;
            throw new IOException("volume " + parent + " was created with codecs [" + String.join(", ", st.codecs())
                    + "], which need options here: give them with --codecs, e.g. '[{type: aes-gcm, key: \"${env:VOLKEY}\"}]' ("
                    + e.problems().getFirst() + ")");
        }
    }

    /** The volume's name: the positional NAME, else --device. */
    String name(String positional) {
        if (positional != null && o.device != null && !positional.equals(o.device)) {
            throw new IllegalArgumentException("volume " + positional + " and --device " + o.device + " differ; give one of them");
        }
        String n = positional != null ? positional : o.device;
        if (n == null) throw new IllegalArgumentException(o.store != null ? "name the volume (NAME)" : "name the device (--device NAME)");
        if (!DeviceConfig.NAME.matcher(n).matches()) {
            throw new IllegalArgumentException("volume name \"" + n + "\" is invalid; use lower-case letters, digits, . _ - (up to 32),"
                    + " as for a device");
        }
        return n;
    }

    /**
     * Opens volume {@code name}. {@code newSize}: the size of a volume about to be created (with --store),
     * else -1; an existing volume's chunk size and codecs then come from its metadata unless given.
     */
    Opened open(String name, long newSize) throws IOException {
        if (o.config != null) return fromDevice(name);
        StoreUrl url = StoreUrl.parse(o.store);
        String chunk = o.chunkSize == null ? "1MiB" : o.chunkSize;
        if (newSize >= 0) return fromUrl(url, name, newSize, chunk, o.codecs, "--codecs");
        requireStoreFolder(url, name);
        try (Opened probe = fromUrl(url, name, Size.MiB, chunk, "[]", "--codecs")) {
            Optional<Volume.VolumeStatus> s = probe.volume().status();
            if (s.isEmpty()) {
                throw new IOException("no volume " + name + " in " + url.location() + "; check the name (ublk-gateway volume list --store "
                        + o.store + ")");
            }
            Volume.VolumeStatus st = s.get();
            String codecs = o.codecs;
            if (codecs == null) {
                codecs = "[" + String.join(", ", st.codecs().stream().map(c -> "{type: " + StoreUrl.quote(c) + "}").toList()) + "]";
            }
            try {
                return fromUrl(url, name, st.sizeBytes(), Size.compact(st.chunkBytes()), codecs, "--codecs");
            } catch (ConfigException e) {
                if (o.codecs != null) throw e;
                throw new IOException("volume " + name + " was created with codecs [" + String.join(", ", st.codecs())
                        + "], which need options here: give them with --codecs, e.g. '[{type: aes-gcm, key: \"${env:VOLKEY}\"}]' ("
                        + e.problems().getFirst() + ")");
            }
        }
    }

    private Opened fromDevice(String name) throws IOException {
        GatewayConfig config = Common.load(o.config, host);
        DeviceConfig d = config.devices().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow(() ->
                new IOException(o.config + " has no device " + name + "; its devices: "
                        + String.join(", ", config.devices().stream().map(DeviceConfig::name).toList())));
        Volume v = volumeOf(d);
        if (v == null) {
            throw new IOException("device " + name + " has target type " + d.target().type()
                    + ", which keeps no volume of its own; volume operations need a chunked target");
        }
        return new Opened(v, name, d.sizeBytes(), "device " + name + " of " + o.config);
    }

    /** The devices of --config whose targets keep volumes, each with its volume. */
    List<Opened> devices() throws IOException {
        List<Opened> all = new ArrayList<>();
        for (DeviceConfig d : Common.load(o.config, host).devices()) {
            Volume v = volumeOf(d);
            if (v != null) all.add(new Opened(v, d.name(), d.sizeBytes(), "device " + d.name() + " of " + o.config));
        }
        return all;
    }

    boolean fromConfig() {
        return o.config != null;
    }

    @SuppressWarnings("unchecked")
    private Volume volumeOf(DeviceConfig d) throws IOException {
        TargetProvider<Record> tp = host.target(d.target().type()).orElseThrow(() -> new IOException("device " + d.name()
                + ": target type \"" + d.target().type() + "\" is not provided by any loaded plugin"));
        return tp.volume(d.target().config(), d.name(), chains.providerContext(d.name()));
    }

    /** A chunked device's YAML for the volume in the URL's store: the same binding and checks as a file's. */
    private Opened fromUrl(StoreUrl url, String name, long size, String chunk, String codecs, String source) throws IOException {
        String yaml = device(name, size, chunk, codecs == null ? "[]" : codecs, StoreUrl.yaml(url.type(), url.forVolume(name), "        "));
        DeviceConfig d = ConfigLoader.parse(yaml, source, chains.componentTypes()).devices().getFirst();
        return new Opened(volumeOf(d), name, -1, url.location() + name);
    }

    /** A directory store's folder is created when opened: only a new volume may create it, a look must not. */
    private static void requireStoreFolder(StoreUrl url, String name) throws IOException {
        if (!url.type().equals("directory")) return;
        Path root = Path.of(url.options().get("path"));
        if (!java.nio.file.Files.isDirectory(root)) throw new IOException("no store folder " + root + "; check --store");
        if (name != null && !java.nio.file.Files.isDirectory(root.resolve(name))) {
            throw new IOException("no volume " + name + " in " + url.location() + "; check the name (ublk-gateway volume list --store "
                    + url.url() + ")");
        }
    }

    /** The store of --store itself (not a volume's), to list the volumes in it. */
    ObjectStore openRootStore() throws IOException {
        StoreUrl url = StoreUrl.parse(o.store);
        requireStoreFolder(url, null);
        String yaml = device("list", Size.MiB, "1MiB", "[]", StoreUrl.yaml(url.type(), url.options(), "        "));
        DeviceConfig d = ConfigLoader.parse(yaml, "--store", chains.componentTypes()).devices().getFirst();
        return chains.providerContext("list").openStore(storeOf(d.target().config()));
    }

    /** Volume {@code name} under --store, with the codecs its metadata names (enough for its status). */
    Opened child(String name) throws IOException {
        StoreUrl url = StoreUrl.parse(o.store);
        requireStoreFolder(url, name);
        return fromUrl(url, name, Size.MiB, "1MiB", "[]", "--store");
    }

    /** The nested store option of a target's bound config. */
    private static NestedSpec storeOf(Record config) throws IOException {
        for (RecordComponent c : config.getClass().getRecordComponents()) {
            try {
                if (c.getAccessor().invoke(config) instanceof NestedSpec n && n.kind().equals("store")) return n;
            } catch (ReflectiveOperationException e) {
                throw new IOException("cannot read the store option of " + config.getClass().getSimpleName(), e);
            }
        }
        throw new IOException("the target has no store option");
    }

    /**
     * A one-device YAML file. The size of an existing volume is in its metadata; the nominal size here only
     * satisfies the device's own checks and is not compared with it.
     */
    private static String device(String name, long size, String chunk, String codecs, String storeYaml) {
        long blocks = Math.max(1, Math.ceilDiv(size, 4096));
        return "devices:\n"
                + "  - name: " + name + "\n"
                + "    size: " + blocks * 4096 + "B\n"
                + "    target:\n"
                + "      type: chunked\n"
                + "      chunk-size: " + StoreUrl.quote(chunk) + "\n"
                + "      cache: 512MiB\n" // enough for any chunk size; volume operations keep no cache
                + "      codecs: " + codecs + "\n"
                + "      store:\n" + storeYaml;
    }
}
