package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Volume;
import dev.ublkgateway.core.frontend.nbd.NbdClient;
import dev.ublkgateway.core.frontend.nbd.NbdUri;
import dev.ublkgateway.core.plugins.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongConsumer;

/** {@code volume import}, {@code export} and {@code verify}: every chunk of a volume, with progress. */
final class VolumeDataCommands {
    private VolumeDataCommands() {}

    @Command(name = "import", description = "Create a volume from a raw image file, a block device or an NBD export "
            + "(nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH); all-zero chunks are not stored. Refused when the volume "
            + "exists. An import that was killed leaves a volume marked incomplete: delete it and import again.")
    static final class Import extends VolumeCommand.Sub {
        @Parameters(paramLabel = "SRC NAME", arity = "1..2", description = "the raw image or NBD URI, then the volume (with --config: "
                + "the device; default --device)")
        List<String> args;
        @Option(names = "--size", paramLabel = "SIZE", description = "with --store: the volume's size (default: the image's, "
                + "rounded up to 4KiB)")
        String size;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String srcArg = args.getFirst();
            NbdUri uri = NbdUri.looksLike(srcArg) ? NbdUri.parse(srcArg) : null;
            Path src = uri == null ? Path.of(srcArg) : null;
            String n = ref.name(args.size() > 1 ? args.get(1) : null);
            if (src != null && !Files.exists(src)) throw new IOException(src + ": no such file or block device; check the path");
            long bytes = VolumeCommand.storeSize(ref, size, null);
            try (VolumeRef.Opened v = ref.open(n, Math.max(bytes, 0))) {
                Progress p = Progress.onStdout("importing " + n);
                // with --store and no --size: -1, the image's own size
                long want = ref.fromConfig() ? v.deviceSize() : bytes;
                long stored;
                if (uri == null) {
                    stored = v.volume().importFrom(src, want, throttled(p));
                } else {
                    try (NbdClient in = NbdClient.connect(uri)) {
                        stored = v.volume().importFrom(in, want, throttled(p));
                    }
                }
                Volume.VolumeStatus s = v.volume().status().orElseThrow();
                p.finish("imported " + srcArg + " into volume " + n + " (" + v.where() + "): " + Size.format(s.sizeBytes()) + ", "
                        + stored + " of " + Math.ceilDiv(s.sizeBytes(), s.chunkBytes()) + " chunks stored (the rest are all zeros)");
            }
            return 0;
        }
    }

    @Command(name = "export", description = "Write a volume to a new raw image file (chunks without data become holes), to "
            + "a block device, or into an existing NBD export at least as large (nbd://HOST[:PORT]/EXPORT, "
            + "nbd+unix:///EXPORT?socket=PATH; flushed at the end). Refused while a gateway serves the volume: its cache may hold writes not yet stored; "
            + "run `down` first. With --snapshot, the snapshot's data, also while a gateway serves the volume.")
    static final class Export extends VolumeCommand.Sub {
        @Parameters(paramLabel = "NAME DST", arity = "1..2", description = "the volume (with --config: the device; default "
                + "--device), then the new file, the block device or the NBD URI")
        List<String> args;
        @Option(names = "--snapshot", paramLabel = "SNAP", description = "export this snapshot (reads only its immutable objects)")
        String snapshot;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = ref.name(args.size() > 1 ? args.getFirst() : null);
            String dst = args.getLast();
            NbdUri uri = NbdUri.looksLike(dst) ? NbdUri.parse(dst) : null;
            try (VolumeRef.Opened v = ref.open(n, -1)) {
                Progress p = Progress.onStdout("exporting " + n);
                if (uri == null) {
                    if (snapshot != null) v.volume().exportSnapshotTo(snapshot, Path.of(dst), throttled(p));
                    else v.volume().exportTo(Path.of(dst), throttled(p));
                } else {
                    try (NbdClient out = NbdClient.connect(uri)) {
                        if (snapshot != null) v.volume().exportSnapshotTo(snapshot, out, throttled(p));
                        else v.volume().exportTo(out, throttled(p));
                    }
                }
                p.finish("exported " + (snapshot != null ? "snapshot " + snapshot + " of " : "") + "volume " + n + " (" + v.where()
                        + ") to " + dst);
            }
            return 0;
        }
    }

    @Command(name = "verify", description = "Read every object of a volume and check it (each codec's CRC or GCM tag, the "
            + "generation the chunk map records); list damaged chunks by offset.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:the volume is clean", "1:damage found, or the check could not run (one line says why)",
                    "2:bad usage"})
    static final class Verify extends VolumeCommand.Sub {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "the volume (with --config: the device; default --device)")
        String name;

        @Override
        int run(VolumeRef ref, PluginHost host) throws Exception {
            String n = ref.name(name);
            try (VolumeRef.Opened v = ref.open(n, -1)) {
                Progress p = Progress.onStdout("verifying " + n);
                Volume.VerifyReport r = v.volume().verify(throttled(p));
                p.finish("volume " + n + ": " + r.chunks() + " chunks, " + r.stored() + " stored objects checked, "
                        + r.damage().size() + " damaged" + (r.unreferenced() > 0 ? ", " + r.unreferenced()
                        + " objects not referenced (unflushed writes of a gateway that died, or left by a crash; volume gc removes them)" : ""));
                for (Volume.Damage d : r.damage()) {
                    System.out.println(d.chunk() < 0 ? "damaged: " + d.problem()
                            : "damaged: chunk " + d.chunk() + " at offset " + d.offset() + " (" + Size.format(d.offset()) + "): " + d.problem());
                }
                return r.clean() ? 0 : 1;
            }
        }
    }

    /** Bytes-left reports from the volume's workers, drawn at most ten times a second. */
    static LongConsumer throttled(Progress p) {
        return new LongConsumer() {
            private long last;

            @Override
            public synchronized void accept(long left) {
                long now = System.nanoTime();
                if (last != 0 && now - last < 100_000_000L && left > 0) return;
                last = now;
                p.left(left);
            }
        };
    }
}
