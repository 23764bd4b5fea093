package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Volume;
import dev.ublkgateway.core.plugins.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code volume clone} and {@code volume flatten}. */
final class VolumeCloneCommands {
    private VolumeCloneCommands() {}

    @Command(name = "clone", description = "Create a volume whose unwritten chunks read from a snapshot of another volume in "
            + "the same store (copy on write; no chunk is copied). The clone has the snapshot's size and the parent's chunk "
            + "size and codecs (and key); the snapshot cannot be deleted until the clone is flattened or deleted.")
    static final class Clone extends VolumeCommand.Sub {
        @Parameters(paramLabel = "PARENT@SNAP CLONE", arity = "1..3", description = "the parent volume and its snapshot (PARENT@SNAP, "
                + "or PARENT SNAP), then the new volume (with --config: the device; default --device)")
        List<String> args;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String parent, snap, child;
            List<String> a = args;
            if (a.getFirst().contains("@")) {
                if (a.size() > 2) throw new IllegalArgumentException("give PARENT@SNAP CLONE, or PARENT SNAP CLONE");
                int at = a.getFirst().indexOf('@');
                parent = a.getFirst().substring(0, at);
                snap = a.getFirst().substring(at + 1);
                child = a.size() > 1 ? a.get(1) : null;
            } else {
                if (a.size() < 2) throw new IllegalArgumentException("name the parent's snapshot: PARENT@SNAP CLONE, or PARENT SNAP CLONE");
                parent = a.get(0);
                snap = a.get(1);
                child = a.size() > 2 ? a.get(2) : null;
            }
            if (snap.isEmpty()) throw new IllegalArgumentException("name the parent's snapshot after the @: PARENT@SNAP");
            String p = ref.validName(parent);
            String c = ref.name(child);
            if (p.equals(c)) throw new IllegalArgumentException("the clone needs a name of its own, not the parent's (" + p + ")");
            try (VolumeRef.Opened v = ref.openClone(c, p)) {
                Volume.VolumeStatus s = v.volume().cloneFrom(p, snap);
                System.out.println("cloned snapshot " + snap + " of volume " + p + " as volume " + c + " (" + v.where() + "): "
                        + Size.format(s.sizeBytes()) + " in chunks of " + Size.format(s.chunkBytes()) + ", codecs "
                        + VolumeCommand.codecList(s.codecs()) + "; no chunk copied");
            }
            return 0;
        }
    }

    @Command(name = "flatten", description = "Copy every chunk a clone still reads from its parent's snapshot into the clone "
            + "(through its codecs), then drop the reference: the parent's snapshot may go afterwards. Refused while a gateway "
            + "serves the clone and while the clone has snapshots of its own.")
    static final class Flatten extends VolumeCommand.Sub {
        @Parameters(paramLabel = "CLONE", arity = "0..1", description = "the clone (with --config: the device; default --device)")
        String name;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = ref.name(name);
            try (VolumeRef.Opened v = ref.open(n, -1)) {
                Volume.Parent parent = v.volume().lineage().parent();
                Progress pr = Progress.onStdout("flattening " + n);
                long copied = v.volume().flatten(VolumeDataCommands.throttled(pr));
                pr.finish("flattened volume " + n + " (" + v.where() + "): " + copied + " chunks copied from "
                        + (parent == null ? "its parent" : parent.volume() + "@" + parent.snapshot()) + "; it no longer reads its parent");
            }
            return 0;
        }
    }
}
