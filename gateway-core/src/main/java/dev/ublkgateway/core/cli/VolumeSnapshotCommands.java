package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Volume;
import dev.ublkgateway.core.plugins.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code volume snapshot}, {@code snapshots}, {@code rollback}, {@code snapshot-delete} and {@code gc}. */
final class VolumeSnapshotCommands {
    private VolumeSnapshotCommands() {}

    /** The volume (the first of two positionals, or --device) and the snapshot (the last). */
    private static String volumeName(VolumeRef ref, List<String> args) {
        return ref.name(args.size() > 1 ? args.getFirst() : null);
    }

    @Command(name = "snapshot", description = "Take a crash-consistent snapshot of a volume. While a gateway serves it, that "
            + "gateway takes it after a FLUSH barrier (asked through the store; it looks every 5 s).")
    static final class Take extends VolumeCommand.Sub {
        @Parameters(paramLabel = "NAME SNAP", arity = "1..2", description = "the volume (with --config: the device; default "
                + "--device), then the snapshot's name (letters, digits, '.', '_', '-')")
        List<String> args;
        @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "120", description = "with a serving gateway: how long "
                + "to wait for it (default ${DEFAULT-VALUE})")
        long waitSeconds;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = volumeName(ref, args);
            if (waitSeconds <= 0) throw new IllegalArgumentException("--wait " + waitSeconds + " is not a positive number of seconds");
            try (VolumeRef.Opened v = ref.open(n, -1)) {
                Volume.SnapshotInfo s = v.volume().snapshot(args.getLast(), waitSeconds * 1000);
                System.out.println("took snapshot " + s.name() + " of volume " + n + " (" + v.where() + "): "
                        + Size.format(s.referencedBytes()) + " referenced");
            }
            return 0;
        }
    }

    @Command(name = "snapshots", description = "List a volume's snapshots: name, when taken, bytes referenced.")
    static final class ListSnapshots extends VolumeCommand.Sub {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "the volume (with --config: the device; default --device)")
        String name;
        @Option(names = "--json", description = "print a JSON array")
        boolean json;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = ref.name(name);
            try (VolumeRef.Opened v = ref.open(n, -1)) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (Volume.SnapshotInfo s : v.volume().snapshots()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", s.name());
                    m.put("created", Instant.ofEpochMilli(s.createdMillis()).toString());
                    m.put("referenced_bytes", s.referencedBytes());
                    rows.add(m);
                }
                if (json) {
                    System.out.println(VolumeCommand.JSON.writeValueAsString(rows));
                    return 0;
                }
                Table t = new Table(java.util.Set.of(), "SNAPSHOT", "CREATED", "REFERENCED");
                for (Map<String, Object> m : rows) {
                    t.add(String.valueOf(m.get("name")), String.valueOf(m.get("created")), Size.format((Long) m.get("referenced_bytes")));
                }
                t.print(System.out);
            }
            return 0;
        }
    }

    /** A command on one snapshot of a volume: NAME SNAP (with --config, NAME may be left to --device). */
    abstract static class OnSnapshot extends VolumeCommand.Sub {
        @Parameters(paramLabel = "NAME SNAP", arity = "1..2", description = "the volume (with --config: the device; default "
                + "--device), then the snapshot")
        List<String> args;

        @Override
        final int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = volumeName(ref, args);
            try (VolumeRef.Opened v = ref.open(n, -1)) {
                System.out.println(act(v, n, args.getLast()));
            }
            return 0;
        }

        /** Acts on snapshot {@code snap} of volume {@code name}; returns the line to print. */
        abstract String act(VolumeRef.Opened v, String name, String snap) throws Exception;
    }

    @Command(name = "rollback", description = "Make a volume's data its snapshot's (the snapshot stays); refused while a "
            + "gateway serves it.")
    static final class Rollback extends OnSnapshot {
        @Override
        String act(VolumeRef.Opened v, String name, String snap) throws Exception {
            v.volume().rollback(snap);
            return "rolled volume " + name + " (" + v.where() + ") back to snapshot " + snap;
        }
    }

    @Command(name = "snapshot-delete", description = "Delete a snapshot and the chunk objects only it referenced; works while "
            + "a gateway serves the volume.")
    static final class Delete extends OnSnapshot {
        @Override
        String act(VolumeRef.Opened v, String name, String snap) throws Exception {
            long deleted = v.volume().deleteSnapshot(snap);
            return "deleted snapshot " + snap + " of volume " + name + " (" + v.where() + "): " + deleted + " objects removed";
        }
    }

    @Command(name = "gc", description = "Remove the chunk objects neither the volume nor any snapshot references (left by "
            + "crashes, failed deletes); safe while a gateway serves the volume (objects it may still be writing are kept).")
    static final class Gc extends VolumeCommand.Sub {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "the volume (with --config: the device; default --device)")
        String name;
        @Option(names = "--dry-run", description = "only count what would be removed")
        boolean dryRun;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = ref.name(name);
            try (VolumeRef.Opened v = ref.open(n, -1)) {
                Volume.GcReport r = v.volume().gc(dryRun);
                System.out.println("volume " + n + ": " + r.objects() + " chunk objects, " + r.referenced() + " referenced, "
                        + r.removed() + (dryRun ? " unreferenced (would be removed; --dry-run)" : " unreferenced removed")
                        + (r.kept() > 0 ? ", " + r.kept() + " kept (newer than the stored chunk map: a serving gateway may be writing them)" : ""));
            }
            return 0;
        }
    }
}
