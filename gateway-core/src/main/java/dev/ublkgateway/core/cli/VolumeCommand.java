package dev.ublkgateway.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Volume;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.plugins.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code ublk-gateway volume}: the lifecycle of chunked volumes while no gateway serves them, in the store
 * of a YAML device or of a store URL ({@link VolumeRef}). The data commands are in {@link VolumeDataCommands}.
 */
@Command(name = "volume", description = "Create, describe, list, delete, import, export and verify chunked volumes "
        + "in an object store, while no gateway serves them; take, list, roll back and delete snapshots; collect garbage; "
        + "clone snapshots and flatten clones.",
        subcommands = {VolumeCommand.Create.class, VolumeCommand.Info.class, VolumeCommand.ListVolumes.class,
                VolumeCommand.Delete.class, VolumeDataCommands.Import.class, VolumeDataCommands.Export.class,
                VolumeDataCommands.Verify.class, VolumeSnapshotCommands.Take.class, VolumeSnapshotCommands.ListSnapshots.class,
                VolumeSnapshotCommands.Rollback.class, VolumeSnapshotCommands.Delete.class, VolumeSnapshotCommands.Gc.class,
                VolumeCloneCommands.Clone.class, VolumeCloneCommands.Flatten.class})
final class VolumeCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "create", description = "Create an empty volume (with --config: the device's size, chunk size and codecs).")
    static final class Create extends Sub {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "the volume (with --config: the device; default --device)")
        String name;
        @Option(names = "--size", paramLabel = "SIZE", description = "with --store: the volume's size, e.g. 10GiB (a multiple of 4KiB)")
        String size;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = ref.name(name);
            long bytes = storeSize(ref, size, "give the new volume's size: --size SIZE, e.g. --size 10GiB");
            try (VolumeRef.Opened v = ref.open(n, Math.max(bytes, 0))) {
                Volume.VolumeStatus s = v.volume().create(bytes < 0 ? v.deviceSize() : bytes);
                System.out.println("created volume " + n + " (" + v.where() + "): " + Size.format(s.sizeBytes()) + " in chunks of "
                        + Size.format(s.chunkBytes()) + ", codecs " + codecList(s.codecs()));
            }
            return 0;
        }
    }

    @Command(name = "info", description = "What a volume's metadata says: size, chunk size, codecs, encryption, "
            + "creation time, stored chunks, the gateway serving it, its parent (a clone) and its clones.")
    static final class Info extends Sub {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "the volume (with --config: the device; default --device)")
        String name;
        @Option(names = "--json", description = "print one JSON object")
        boolean json;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = ref.name(name);
            // the status needs no codec options (no key): the probe's codec list is empty
            try (VolumeRef.Opened v = ref.fromConfig() ? ref.open(n, -1) : ref.child(n)) {
                Volume.VolumeStatus s = v.volume().status().orElseThrow(() ->
                        new IOException("no volume " + n + " in " + v.where() + "; create it (ublk-gateway volume create) or check the name"));
                Map<String, Object> m = describe(s, host);
                m.put("location", v.where());
                Volume.Lineage l = v.volume().lineage();
                m.put("parent", l.parent() == null ? null : l.parent().volume() + "@" + l.parent().snapshot());
                m.put("parent_id", l.parent() == null ? null : l.parent().volumeId());
                m.put("snapshots", l.snapshots());
                m.put("clones", l.clones());
                if (json) {
                    System.out.println(JSON.writeValueAsString(m));
                } else {
                    for (var e : m.entrySet()) System.out.printf("%-15s %s%n", label(e.getKey()) + ":", text(e.getKey(), e.getValue()));
                }
            }
            return 0;
        }

        private static String label(String key) {
            return switch (key) {
                case "size_bytes" -> "size";
                case "chunk_bytes" -> "chunk size";
                default -> key.replace('_', ' ');
            };
        }

        private static String text(String key, Object v) {
            if (v == null) return "-";
            if (v instanceof List<?> l) return l.isEmpty() ? "none" : String.join(", ", l.stream().map(String::valueOf).toList());
            if (key.endsWith("bytes") && v instanceof Long b) return Size.format(b) + " (" + b + " bytes)";
            return String.valueOf(v);
        }
    }

    @Command(name = "list", description = "The volumes in a store (--store URL), or of a YAML file's chunked devices (--config).")
    static final class ListVolumes extends Sub {
        @Option(names = "--json", description = "print a JSON array")
        boolean json;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            List<Map<String, Object>> rows = new ArrayList<>();
            if (ref.fromConfig()) {
                for (VolumeRef.Opened v : ref.devices()) {
                    try (v) {
                        Optional<Volume.VolumeStatus> s = v.volume().status();
                        Map<String, Object> m = s.isPresent() ? describe(s.get(), host) : absent(v.name());
                        rows.add(m);
                    }
                }
            } else {
                try (ObjectStore root = ref.openRootStore()) {
                    List<String> children = new ArrayList<>(root.list("", false));
                    children.sort(null);
                    for (String c : children) {
                        if (!c.endsWith("/")) continue;
                        String n = c.substring(0, c.length() - 1);
                        if (!DeviceConfig.NAME.matcher(n).matches()) continue;
                        try (VolumeRef.Opened v = ref.child(n)) {
                            v.volume().status().ifPresent(s -> rows.add(describe(s, host)));
                        }
                    }
                }
            }
            if (json) {
                System.out.println(JSON.writeValueAsString(rows));
                return 0;
            }
            Table t = new Table(java.util.Set.of(), "NAME", "SIZE", "CHUNK", "STORED", "CODECS", "CREATED", "SERVED BY");
            for (Map<String, Object> m : rows) {
                if (m.get("size_bytes") == null) {
                    t.add(String.valueOf(m.get("name")), "-", "-", "-", "-", "-", "(not created)");
                    continue;
                }
                t.add(String.valueOf(m.get("name")), Size.format((Long) m.get("size_bytes")), Size.format((Long) m.get("chunk_bytes")),
                        String.valueOf(m.get("stored_chunks")), codecList((List<?>) m.get("codecs")),
                        String.valueOf(m.getOrDefault("created", "-")), m.get("served_by") == null ? "-" : String.valueOf(m.get("served_by")));
            }
            t.print(System.out);
            return 0;
        }

        private static Map<String, Object> absent(String name) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("exists", false);
            return m;
        }
    }

    @Command(name = "delete", description = "Remove every object of a volume; refused while a gateway serves it.")
    static final class Delete extends Sub {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "the volume (with --config: the device; default --device)")
        String name;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = ref.name(name);
            try (VolumeRef.Opened v = ref.fromConfig() ? ref.open(n, -1) : ref.child(n)) {
                v.volume().delete();
                System.out.println("deleted volume " + n + " (" + v.where() + ")");
            }
            return 0;
        }
    }

    /**
     * A volume subcommand: the volume's place (--config/--store) and the body, run with the plugins loaded;
     * an invalid argument the body finds is a usage error.
     */
    abstract static class Sub implements Callable<Integer> {
        @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
        @Mixin VolumeRef.Options where;

        @Override
        public final Integer call() throws IOException {
            return usage(spec, () -> {
                try (PluginHost host = Common.plugins()) {
                    return run(new VolumeRef(where, host), host);
                }
            });
        }

        abstract int run(VolumeRef ref, PluginHost host) throws Exception;
    }

    /** Runs a command's body; an invalid argument it finds is a usage error (exit 2), as picocli's own are. */
    static int usage(picocli.CommandLine.Model.CommandSpec spec, Callable<Integer> body) throws IOException {
        // the result is printed by the command; the volume's own log lines (created, opened) would repeat it
        QUIET.setLevel(java.util.logging.Level.WARNING);
        try {
            return body.call();
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("dev.ublkgateway.plugins");

    static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT);

    /** A volume's status as named fields, in the order `info` prints them. */
    static Map<String, Object> describe(Volume.VolumeStatus s, PluginHost host) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("size_bytes", s.sizeBytes());
        m.put("chunk_bytes", s.chunkBytes());
        m.put("chunks", Math.ceilDiv(s.sizeBytes(), s.chunkBytes()));
        m.put("stored_chunks", s.storedChunks() < 0 ? null : s.storedChunks());
        m.put("codecs", s.codecs());
        m.put("encryption", s.codecs().stream().filter(c -> host.find("codec", c)
                .map(p -> p.provider() instanceof ChunkCodecProvider<?> cp && cp.encrypts()).orElse(false)).findFirst().orElse(null));
        m.put("format", s.format());
        m.put("volume_id", s.volumeId());
        m.put("created", s.createdMillis() == 0 ? null : Instant.ofEpochMilli(s.createdMillis()).toString());
        m.put("served_by", s.servedBy());
        if (s.incompleteImport()) m.put("state", "incomplete import (it stopped before it finished); delete it and import again");
        return m;
    }

    static String codecList(List<?> codecs) {
        return codecs.isEmpty() ? "none" : "[" + String.join(", ", codecs.stream().map(String::valueOf).toList()) + "]";
    }

    /**
     * The --size option, which goes only with --store (with --config the device's size is the volume's):
     * its bytes, or -1 when not given ({@code missing}: the error when it must be).
     */
    static long storeSize(VolumeRef ref, String size, String missing) {
        if (ref.fromConfig()) {
            if (size != null) throw new IllegalArgumentException("--size goes with --store; with --config the device's size is the volume's");
            return -1;
        }
        if (size == null) {
            if (missing != null) throw new IllegalArgumentException(missing);
            return -1;
        }
        return sizeOption(size);
    }

    /** A size option: a positive multiple of 4 KiB (the largest block size, so any device can serve it). */
    static long sizeOption(String text) {
        long b;
        try {
            b = Size.parse(text).bytes();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--size " + text + " is not a size; " + Size.ACCEPTED);
        }
        if (b <= 0 || b % 4096 != 0) throw new IllegalArgumentException("--size " + text + " is not a positive multiple of 4KiB; e.g. 10GiB");
        return b;
    }
}
