package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockImage;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ProviderContext;
import dev.ublkgateway.api.RetryPolicy;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Volume;
import dev.ublkgateway.api.Volume.GcReport;
import dev.ublkgateway.api.Volume.SnapshotInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A chunked volume for the operations of {@code ublk-gateway volume}. Data goes through the same layers
 * as the live target ({@link VolumeFormat#layers}: zero elision, generation check, codecs, store) under
 * the volume's lease; only the cache is left out. Snapshots, their export, snapshot deletion and garbage
 * collection also work beside a serving gateway: they read only immutable objects, ask that gateway (a
 * snapshot), or delete only what it can never reference again ({@link #deletable}).
 */
final class ChunkedVolume implements Volume {
    private final ChunkedTargetConfig config;
    private final String name;
    private final ProviderContext context;
    private ObjectStore store;

    ChunkedVolume(ChunkedTargetConfig config, String name, ProviderContext context) {
        this.config = config;
        this.name = name;
        this.context = context;
    }

    /** The store, opened on first use; a missing bucket or bad credentials fail here. */
    private ObjectStore store() throws IOException {
        if (store == null) store = context.openStore(config.store());
        return store;
    }

    /** The store for a {@link VolumeFormat}, which closes what it is given: this volume closes the store itself. */
    private ObjectStore lent() throws IOException {
        ObjectStore s = store();
        return new ObjectStore() {
            public Optional<byte[]> get(String key) throws IOException { return s.get(key); }
            public void put(String key, byte[] data, int offset, int length) throws IOException { s.put(key, data, offset, length); }
            public void delete(String key) throws IOException { s.delete(key); }
            public List<String> list(String prefix, boolean recursive) throws IOException { return s.list(prefix, recursive); }
            public RetryPolicy retries() { return s.retries(); }
            public ObjectStore sibling(String volume) throws IOException { return s.sibling(volume); }
            public void close() {}
        };
    }

    private int chunkSize() {
        return (int) config.chunkSize().bytes();
    }

    private DeviceDescriptor descriptor(long size) {
        return new DeviceDescriptor(name, size, 4096, 1, 1, chunkSize());
    }

    private List<String> codecNames() {
        return config.codecs().stream().map(NestedSpec::type).toList();
    }

    private List<ChunkedTarget.CodecFactory> codecs(long size) {
        List<ChunkedTarget.CodecFactory> l = new ArrayList<>();
        DeviceDescriptor d = descriptor(size);
        for (NestedSpec cs : config.codecs()) l.add(info -> context.createCodec(cs, d, info));
        return l;
    }

    private VolumeFormat open(long size, VolumeFormat.Use use) throws IOException {
        // an incomplete import is refused before its (dead) importer's lease is taken over
        if (use == VolumeFormat.Use.CHECK || use == VolumeFormat.Use.READ) {
            Optional<VolumeMeta> m = VolumeFormat.readMeta(store());
            if (m.isPresent() && m.get().importing()) throw new IOException(VolumeMeta.incomplete(name));
        }
        return VolumeFormat.open(descriptor(size), chunkSize(), false, false, lent(), codecNames(), codecs(size), use);
    }

    private VolumeMeta requireMeta() throws IOException {
        return VolumeFormat.readMeta(store()).orElseThrow(() ->
                new IOException("no volume " + name + " in this store; check the name and the store (ublk-gateway volume list)"));
    }

    @Override
    public Optional<VolumeStatus> status() throws IOException {
        Optional<VolumeMeta> meta = VolumeFormat.readMeta(store());
        if (meta.isEmpty()) return Optional.empty();
        VolumeMeta m = meta.get();
        long stored;
        try {
            stored = chunkKeys().size();
        } catch (IOException e) {
            stored = -1;
        }
        List<String> codecs = m.codecs().isEmpty() ? List.of() : List.of(m.codecs().split(","));
        return Optional.of(new VolumeStatus(name, m.size(), m.chunkSize(), codecs, m.format(), HexFormat.of().formatHex(m.volumeId()),
                m.created(), stored, Lease.holder(store()).orElse(null), m.importing()));
    }

    /** The store's chunk object keys. */
    private List<String> chunkKeys() throws IOException {
        return store().list("chunks/", true);
    }

    /** Stores a just created volume's empty chunk map and closes it (the lease kept if that failed). */
    private static void storeNew(VolumeFormat f) throws IOException {
        boolean ok = false;
        try {
            f.persistMap();
            ok = true;
        } finally {
            f.close(ok);
        }
    }

    @Override
    public VolumeStatus create(long sizeBytes) throws IOException {
        storeNew(open(sizeBytes, VolumeFormat.Use.CREATE));
        return status().orElseThrow();
    }

    @Override
    public void delete() throws IOException {
        VolumeMeta meta = requireMeta();
        refuseWithClones(null, "deleted");
        ObjectStore s = RetryingStore.over(store(), RetryPolicy.DEFAULT);
        try (Lease lease = Lease.acquire(s, name, false, false)) {
            deleteObjects(s, config.writebackThreads());
        }
        if (meta.parent() != null) dropMarker(meta.parent().volume());
    }

    // ---------------------------------------------------------------- clones

    /** A clone of one of this volume's snapshots, as its marker {@code clones/CHILD} and the child's metadata say. */
    private record CloneRef(String child, String snapshot, boolean live) {}

    /**
     * The clones recorded in this volume's store. A marker is live when its child exists and names this
     * volume (and its id) as parent; else it is stale (a clone or flatten stopped half-way) and may go.
     */
    private List<CloneRef> clones() throws IOException {
        ObjectStore s = RetryingStore.over(store(), RetryPolicy.DEFAULT);
        String myId = HexFormat.of().formatHex(requireMeta().volumeId());
        List<CloneRef> l = new ArrayList<>();
        List<String> keys = new ArrayList<>(s.list(CloneSource.MARKERS, false));
        keys.sort(null);
        for (String k : keys) {
            String child = k.substring(CloneSource.MARKERS.length());
            if (child.isEmpty() || child.endsWith("/")) continue;
            Optional<VolumeMeta> cm;
            try (ObjectStore cs = store().sibling(child)) {
                cm = VolumeFormat.readMeta(cs);
            } catch (IOException e) {
                cm = Optional.empty(); // no store beside: no such child
            }
            boolean live = cm.isPresent() && cm.get().parent() != null && cm.get().parent().volume().equals(name)
                    && myId.equals(cm.get().parent().volumeId());
            String snap = live ? cm.get().parent().snapshot() : markerSnapshot(s.get(k));
            l.add(new CloneRef(child, snap, live));
        }
        return l;
    }

    private static String markerSnapshot(Optional<byte[]> body) {
        if (body.isEmpty()) return "?";
        java.util.Properties p = new java.util.Properties();
        try {
            p.load(new java.io.StringReader(new String(body.get(), java.nio.charset.StandardCharsets.UTF_8)));
        } catch (IOException e) {
            return "?";
        }
        return p.getProperty("snapshot", "?");
    }

    /** Removes the stale markers; returns how many. */
    private int dropStale(List<CloneRef> clones) throws IOException {
        int n = 0;
        for (CloneRef c : clones) {
            if (c.live()) continue;
            store().delete(CloneSource.MARKERS + c.child());
            n++;
        }
        return n;
    }

    /** Refuses when a live clone reads {@code snapshot} (null: any snapshot); drops stale markers on the way. */
    private void refuseWithClones(String snapshot, String what) throws IOException {
        List<CloneRef> all = clones();
        List<String> live = all.stream().filter(c -> c.live() && (snapshot == null || c.snapshot().equals(snapshot)))
                .map(c -> c.child() + " (of " + c.snapshot() + ")").toList();
        if (!live.isEmpty()) {
            throw new IOException("volume " + name + (snapshot == null ? "" : ": snapshot " + snapshot) + " cannot be " + what
                    + ": clones read from it: " + String.join(", ", live) + "; flatten them (ublk-gateway volume flatten CLONE)"
                    + " or delete them first");
        }
        dropStale(all);
    }

    /** Removes the marker of this volume in its parent {@code parent}'s store (a stale one stays for the parent's gc). */
    private void dropMarker(String parent) {
        try (ObjectStore ps = store().sibling(parent)) {
            RetryingStore.over(ps, RetryPolicy.DEFAULT).delete(CloneSource.MARKERS + name);
        } catch (IOException | RuntimeException e) {
            java.util.logging.Logger.getLogger(ChunkedVolume.class.getName()).warning("volume " + name + ": the clone marker in volume "
                    + parent + " could not be removed (" + e.getMessage() + "); ublk-gateway volume gc " + parent + " removes it");
        }
    }

    @Override
    public VolumeStatus cloneFrom(String parent, String snapshot) throws IOException {
        Snapshot.checkName(snapshot);
        if (parent.equals(name)) throw new IOException("a volume cannot be its own clone; name a new volume for the clone");
        if (VolumeFormat.readMeta(store()).isPresent()) {
            throw new IOException("volume " + name + " already exists in this store; delete it first (ublk-gateway volume delete)"
                    + " or choose another name for the clone");
        }
        // the parent as it is now: checks its codecs, key and snapshot, and fixes its id and the clone's size
        Volume.Parent ref;
        long size;
        try (CloneSource src = CloneSource.open(store(), new Volume.Parent(parent, snapshot, null), name, chunkSize(), codecNames(),
                codecs(Math.max(4096, config.chunkSize().bytes())), 0)) {
            ref = src.ref;
            size = src.snapshot.size();
        }
        // the marker first: a clone that stops half-way leaves a marker whose child does not exist (stale, see clones())
        try (ObjectStore ps = store().sibling(parent)) {
            byte[] body = ("snapshot=" + snapshot + "\ncreated=" + System.currentTimeMillis() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            RetryingStore.over(ps, RetryPolicy.DEFAULT).put(CloneSource.MARKERS + name, body, 0, body.length);
        }
        boolean ok = false;
        try {
            storeNew(VolumeFormat.open(descriptor(size), chunkSize(), false, false, lent(), codecNames(), codecs(size),
                    VolumeFormat.Use.CREATE, ref, 0));
            ok = true;
        } finally {
            if (!ok) {
                try {
                    deleteObjects(RetryingStore.over(store(), RetryPolicy.DEFAULT), config.writebackThreads());
                } catch (IOException | RuntimeException ignored) {
                    // the clone's own failure is the one to report
                }
                dropMarker(parent);
            }
        }
        return status().orElseThrow();
    }

    @Override
    public long flatten(LongConsumer bytesLeft) throws IOException {
        VolumeMeta meta = requireMeta();
        if (meta.parent() == null) throw new IOException("volume " + name + " is not a clone; there is nothing to flatten");
        if (Lease.served(store())) {
            throw new IOException("volume " + name + " is served by a gateway (" + Lease.holder(store()).orElse("?")
                    + "); stop it (ublk-gateway down) and flatten then");
        }
        int cs = chunkSize();
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.CHECK);
        boolean ok = false;
        try {
            if (f.mapProblem != null) throw new IOException(f.mapProblem + "; nothing was copied; run ublk-gateway volume verify");
            if (!f.snapshots.isEmpty()) {
                throw new IOException("volume " + name + " has snapshots (" + String.join(", ", f.snapshots.stream().map(Snapshot::name).toList())
                        + "), whose unwritten chunks read from the parent too; delete them first (ublk-gateway volume snapshot-delete)");
            }
            CloneSource src = f.source;
            List<Long> copy = new ArrayList<>();
            for (long i = 0; i < f.map.count(); i++) if (f.map.get(i) == 0 && src.has(i)) copy.add(i);
            ChunkStore own = f.ownLayers(cs, name);
            AtomicLong done = new AtomicLong(), copied = new AtomicLong();
            long total = (long) copy.size() * cs;
            bytesLeft.accept(total);
            ThreadLocal<byte[]> bufs = ThreadLocal.withInitial(() -> new byte[cs + GenerationCheck.TRAILER]);
            byte[] zeros = new byte[cs];
            Parallel.run(copy.size(), config.writebackThreads(), k -> {
                long i = copy.get((int) k);
                byte[] data = src.read(i);
                // an all-zero parent chunk needs no object: the clone reads zeros without one
                if (data != null && !Arrays.equals(data, 0, cs, zeros, 0, cs)) {
                    byte[] buf = bufs.get();
                    System.arraycopy(data, 0, buf, 0, cs);
                    own.write(i, buf, cs);
                    copied.incrementAndGet();
                }
                bytesLeft.accept(total - done.addAndGet(cs));
            });
            // the chunks first, then the metadata without the parent, then the parent's marker: a stop anywhere
            // leaves a clone that still reads its parent, or a stale marker
            f.map.markDirty();
            f.persistMap();
            f.storeMeta(f.meta.with(f.meta.size(), null));
            ok = true;
            RetryingStore.over(src.parentStore(), RetryPolicy.DEFAULT).delete(CloneSource.MARKERS + name);
            return copied.get();
        } finally {
            f.close(true);
        }
    }

    @Override
    public Lineage lineage() throws IOException {
        VolumeMeta meta = requireMeta();
        List<String> l = new ArrayList<>();
        for (CloneRef c : clones()) l.add(c.child() + " (of " + c.snapshot() + ")" + (c.live() ? "" : " (stale record, volume gc removes it)"));
        // the names from the store's listing: no manifest is decoded, so no key is needed
        List<String> snaps = new ArrayList<>();
        for (String k : store().list(Snapshot.PREFIX, false)) {
            String n = Snapshot.nameOf(k);
            if (n != null) snaps.add(n);
        }
        snaps.sort(null);
        return new Lineage(meta.parent(), snaps, l);
    }

    /** Deletes the chunks first and the metadata last, so a delete that fails half-way can be run again. */
    private void deleteObjects(ObjectStore s, int threads) throws IOException {
        List<String> chunks = s.list("chunks/", true);
        Parallel.run(chunks.size(), threads, i -> s.delete(chunks.get((int) i)));
        for (String k : s.list("", true)) {
            if (!k.equals(Lease.KEY) && !k.equals(VolumeMeta.KEY)) s.delete(k);
        }
        s.delete(VolumeMeta.KEY);
    }

    @Override
    public long importFrom(Path source, long sizeBytes, LongConsumer bytesLeft) throws IOException {
        try (RawImage in = RawImage.source(source)) {
            return importImage(in, sizeBytes, bytesLeft);
        }
    }

    @Override
    public long importFrom(BlockImage source, long sizeBytes, LongConsumer bytesLeft) throws IOException {
        return importImage(source, sizeBytes, bytesLeft);
    }

    /**
     * The metadata is stored first, marked as an import under way, and unmarked last, after the chunks and the map:
     * an import that is killed leaves a volume that says it is incomplete (refused by up, export and verify; delete
     * removes it) rather than one that looks whole.
     */
    private long importImage(BlockImage in, long sizeBytes, LongConsumer bytesLeft) throws IOException {
        long srcSize = in.size();
        if (sizeBytes < 0) sizeBytes = Math.max(4096, Math.ceilDiv(srcSize, 4096) * 4096);
        if (srcSize > sizeBytes) {
            throw new IOException(in.name() + " is " + Size.format(srcSize) + ", larger than volume " + name + " (" + Size.format(sizeBytes)
                    + "); use a larger volume");
        }
        int cs = chunkSize();
        VolumeFormat f = open(sizeBytes, VolumeFormat.Use.IMPORT);
        boolean ok = false;
        AtomicLong stored = new AtomicLong(), done = new AtomicLong();
        try {
            ChunkStore layers = f.layers(cs, name);
            long srcChunks = Math.ceilDiv(srcSize, cs);
            bytesLeft.accept(srcSize);
            ThreadLocal<byte[]> bufs = ThreadLocal.withInitial(() -> new byte[cs + GenerationCheck.TRAILER]);
            byte[] zeros = new byte[cs];
            Parallel.run(srcChunks, config.writebackThreads(), i -> {
                byte[] buf = bufs.get();
                long off = i * cs;
                int n = (int) Math.min(cs, srcSize - off);
                in.read(off, buf, n);
                Arrays.fill(buf, n, cs, (byte) 0);
                // all-zero chunks are not stored: the volume reads them as zeros
                if (!Arrays.equals(buf, 0, cs, zeros, 0, cs)) {
                    layers.write(i, buf, cs);
                    stored.incrementAndGet();
                }
                bytesLeft.accept(srcSize - done.addAndGet(n));
            });
            f.persistMap();
            f.finishImport();
            ok = true;
        } finally {
            if (!ok) {
                // nothing half-imported stays behind to block the next try
                try {
                    deleteObjects(RetryingStore.over(store(), RetryPolicy.DEFAULT), config.writebackThreads());
                } catch (IOException | RuntimeException ignored) {
                    // the import's own failure is the one to report
                }
            }
            f.close(true);
        }
        return stored.get();
    }

    @Override
    public void exportTo(Path dest, LongConsumer bytesLeft) throws IOException {
        VolumeMeta meta = requireMeta();
        checkDest(dest, meta);
        exportCurrent(meta, m -> export(m.format(), m.map(), dest, bytesLeft));
    }

    @Override
    public void exportTo(BlockImage dest, LongConsumer bytesLeft) throws IOException {
        VolumeMeta meta = requireMeta();
        checkDest(dest, meta);
        exportCurrent(meta, m -> export(m.format(), m.map(), dest, bytesLeft));
    }

    /** Reads only the snapshot's manifest and the chunk objects it lists, which never change: no lease. */
    @Override
    public void exportSnapshotTo(String snapshot, Path dest, LongConsumer bytesLeft) throws IOException {
        VolumeMeta meta = snapshotMeta(snapshot);
        checkDest(dest, meta);
        exportSnapshot(snapshot, meta, m -> export(m.format(), m.map(), dest, bytesLeft));
    }

    @Override
    public void exportSnapshotTo(String snapshot, BlockImage dest, LongConsumer bytesLeft) throws IOException {
        VolumeMeta meta = snapshotMeta(snapshot);
        checkDest(dest, meta);
        exportSnapshot(snapshot, meta, m -> export(m.format(), m.map(), dest, bytesLeft));
    }

    private record Mapped(VolumeFormat format, ChunkMap map) {}

    @FunctionalInterface
    private interface Exporter {
        void run(Mapped m) throws IOException;
    }

    /** The volume's data as its stored map has it, under the lease. */
    private void exportCurrent(VolumeMeta meta, Exporter exporter) throws IOException {
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.CHECK);
        try {
            if (f.mapProblem != null) throw new IOException(f.mapProblem + "; run ublk-gateway volume verify");
            exporter.run(new Mapped(f, f.map));
        } finally {
            f.close(true);
        }
    }

    private void exportSnapshot(String snapshot, VolumeMeta meta, Exporter exporter) throws IOException {
        if (meta.importing()) throw new IOException(VolumeMeta.incomplete(name));
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.READ);
        try {
            Snapshot s = f.readSnapshot(snapshot).orElseThrow(() -> noSnapshot(snapshot));
            ChunkMap m = new ChunkMap(f.map.count());
            m.restore(s.gens());
            exporter.run(new Mapped(f, m));
        } finally {
            f.close(false);
        }
    }

    private IOException noSnapshot(String snapshot) {
        return new IOException("volume " + name + " has no snapshot " + snapshot + "; list them with ublk-gateway volume snapshots");
    }

    private void checkDest(Path dest, VolumeMeta meta) throws IOException {
        boolean device = RawImage.isBlockDevice(dest);
        if (!device && Files.exists(dest)) {
            throw new IOException(dest + " exists; remove it or name a new file (export writes a new file or a block device)");
        }
        if (device && RawImage.size(dest) < meta.size()) {
            throw new IOException(dest + " is " + Size.format(RawImage.size(dest)) + ", smaller than volume " + name + " ("
                    + Size.format(meta.size()) + "); use a larger device");
        }
    }

    private void checkDest(BlockImage dest, VolumeMeta meta) throws IOException {
        if (!dest.writable()) throw new IOException(dest.name() + " is read-only; export into a writable one");
        if (dest.size() < meta.size()) {
            throw new IOException(dest.name() + " is " + Size.format(dest.size()) + ", smaller than volume " + name + " ("
                    + Size.format(meta.size()) + "); use a larger export");
        }
    }

    /** Writes the chunks {@code map} lists to {@code dest}: a new sparse file, or a block device. */
    private void export(VolumeFormat f, ChunkMap map, Path dest, LongConsumer bytesLeft) throws IOException {
        if (RawImage.isBlockDevice(dest)) {
            try (RawImage out = RawImage.device(dest)) {
                export(f, map, out, bytesLeft);
            }
            return;
        }
        boolean ok = false;
        RawImage out = RawImage.newFile(dest, f.meta.size());
        try {
            export(f, map, out, bytesLeft);
            ok = true;
        } finally {
            out.close();
            if (!ok) Files.deleteIfExists(dest);
        }
    }

    /** Writes the chunks {@code map} lists to {@code out}, the others as zeros, and flushes it. */
    private void export(VolumeFormat f, ChunkMap map, BlockImage out, LongConsumer bytesLeft) throws IOException {
        int cs = chunkSize();
        long size = f.meta.size();
        long count = Math.ceilDiv(size, cs);
        ChunkStore layers = f.layers(map, cs, name);
        AtomicLong done = new AtomicLong();
        byte[] zeros = new byte[cs];
        bytesLeft.accept(size);
        Parallel.run(count, config.writebackThreads(), i -> {
            long off = i * cs;
            int n = (int) Math.min(cs, size - off);
            byte[] data = map.get(i) == 0 && (f.source == null || !f.source.has(i)) ? null : layers.read(i);
            if (data != null && Arrays.equals(data, 0, n, zeros, 0, n)) data = null;
            if (data != null) out.write(off, data, n);
            else out.writeZeroes(off, n);
            bytesLeft.accept(size - done.addAndGet(n));
        });
        out.flush();
    }

    @Override
    public VerifyReport verify(LongConsumer bytesLeft) throws IOException {
        VolumeMeta meta = requireMeta();
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.CHECK);
        try {
            if (f.format() >= 2) return verifyObjects(f, bytesLeft);
            int cs = chunkSize();
            long count = Math.ceilDiv(meta.size(), cs);
            List<Damage> damage = java.util.Collections.synchronizedList(new ArrayList<>());
            if (f.mapProblem != null) damage.add(new Damage(-1, -1, f.mapProblem));
            boolean mapOk = f.mapProblem == null;
            // every stored chunk object, by index; a key that names no chunk of this volume is unreferenced
            Set<Long> stored = new HashSet<>();
            long unreferenced = 0;
            for (String k : f.objects.store().list("chunks/", true)) {
                long i = StoreLayer.index(k);
                if (i < 0 || i >= count || (mapOk && f.map.get(i) == 0)) unreferenced++;
                else stored.add(i);
            }
            if (mapOk) {
                for (long i = 0; i < count; i++) {
                    long gen = f.map.get(i);
                    if (gen != 0 && !stored.contains(i)) {
                        damage.add(new Damage(i, i * cs, "missing: the chunk map lists it (generation " + gen + ") but the store has no object"));
                    }
                }
            }
            List<Long> check = new ArrayList<>(stored);
            check.sort(null);
            ChunkStore layers = f.layers(cs, name);
            AtomicLong done = new AtomicLong();
            long total = (long) check.size() * cs;
            bytesLeft.accept(total);
            Parallel.run(check.size(), config.writebackThreads(), k -> {
                long i = check.get((int) k);
                try {
                    // with a readable map, through the generation check too; else the codecs alone (CRC, GCM tag)
                    if (mapOk) layers.read(i);
                    else f.codecs.read(i);
                } catch (IOException e) {
                    damage.add(new Damage(i, i * cs, e.getMessage()));
                }
                bytesLeft.accept(total - done.addAndGet(cs));
            });
            List<Damage> sorted = new ArrayList<>(damage);
            sorted.sort(java.util.Comparator.comparingLong(Damage::chunk));
            return new VerifyReport(count, check.size(), sorted, unreferenced);
        } finally {
            f.close(true);
        }
    }

    /** Snapshot operations need format 2; the metadata, checked. */
    private VolumeMeta snapshotMeta(String snapshot) throws IOException {
        if (snapshot != null) Snapshot.checkName(snapshot);
        VolumeMeta meta = requireMeta();
        if (meta.format() < 2) throw new IOException("volume " + name + ": " + VolumeFormat.formatOneSnapshots());
        if (meta.format() > VolumeMeta.FORMAT) {
            throw new IOException("volume " + name + ": its format " + meta.format() + " is newer than this gateway reads (formats 1 to "
                    + VolumeMeta.FORMAT + "); use a newer ublk-gateway");
        }
        return meta;
    }

    /** How often a serving gateway looks for snapshot requests, and so about how long one waits at most. */
    static long requestPollMillis = Lease.HEARTBEAT_MS;

    @Override
    public SnapshotInfo snapshot(String snapshot, long waitMillis) throws IOException {
        VolumeMeta meta = snapshotMeta(snapshot);
        if (Lease.served(store())) return requestSnapshot(snapshot, meta, waitMillis);
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.CHECK);
        try {
            if (f.mapProblem != null) throw new IOException(f.mapProblem + "; run ublk-gateway volume verify");
            return info(f.takeSnapshot(snapshot, System.currentTimeMillis()));
        } finally {
            f.close(true);
        }
    }

    /**
     * A served volume: the serving gateway takes the snapshot (after a FLUSH barrier, see {@link SnapshotRequests}).
     * It is asked through the store: object {@code snapshots/requests/SNAP}; it answers by storing the manifest,
     * or {@code snapshots/requests/SNAP.failed} with the reason.
     */
    private SnapshotInfo requestSnapshot(String snapshot, VolumeMeta meta, long waitMillis) throws IOException {
        ObjectStore s = RetryingStore.over(store(), RetryPolicy.DEFAULT);
        if (s.get(Snapshot.key(snapshot)).isPresent()) throw new IOException("volume " + name + " has a snapshot " + snapshot + "; choose another name");
        String req = Snapshot.REQUESTS + snapshot, failed = req + SnapshotRequests.FAILED;
        s.delete(failed);
        byte[] body = ("requested=" + System.currentTimeMillis() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        s.put(req, body, 0, body.length);
        long deadline = System.nanoTime() + waitMillis * 1_000_000L;
        while (true) {
            if (s.get(Snapshot.key(snapshot)).isPresent() && s.get(req).isEmpty()) {
                VolumeFormat f = open(meta.size(), VolumeFormat.Use.READ);
                try {
                    return info(f.readSnapshot(snapshot).orElseThrow(() -> noSnapshot(snapshot)));
                } finally {
                    f.close(false);
                }
            }
            Optional<byte[]> why = s.get(failed);
            if (why.isPresent()) {
                s.delete(failed);
                throw new IOException("volume " + name + ": the serving gateway could not take snapshot " + snapshot + ": "
                        + new String(why.get(), java.nio.charset.StandardCharsets.UTF_8).strip());
            }
            if (System.nanoTime() > deadline) {
                s.delete(req);
                throw new IOException("volume " + name + ": the gateway serving it did not take snapshot " + snapshot + " within "
                        + waitMillis / 1000 + " s (it looks for requests every " + requestPollMillis / 1000 + " s; a large FLUSH takes"
                        + " longer); check with ublk-gateway volume snapshots, or try again with a longer --wait");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the gateway to take snapshot " + snapshot);
            }
        }
    }

    private SnapshotInfo info(Snapshot s) {
        return new SnapshotInfo(s.name(), s.created(), s.chunksWithData() * chunkSize());
    }

    @Override
    public List<SnapshotInfo> snapshots() throws IOException {
        VolumeMeta meta = snapshotMeta(null);
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.READ);
        try {
            if (!f.snapshotProblems.isEmpty()) throw new IOException(f.snapshotProblems.getFirst() + "; run ublk-gateway volume verify");
            List<SnapshotInfo> l = new ArrayList<>();
            for (Snapshot s : f.snapshots) l.add(info(s));
            return l;
        } finally {
            f.close(false);
        }
    }

    @Override
    public void rollback(String snapshot) throws IOException {
        VolumeMeta meta = snapshotMeta(snapshot);
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.CHECK);
        try {
            if (f.mapProblem != null) throw new IOException(f.mapProblem + "; run ublk-gateway volume verify");
            Snapshot s = f.readSnapshot(snapshot).orElseThrow(() -> noSnapshot(snapshot));
            f.rollback(s);
        } finally {
            f.close(true);
        }
    }

    /**
     * The volume for deleting objects: under its lease, or, while a gateway serves it, without (only
     * what is safe beside it, see {@link #gc}). The stored map is read before the manifests.
     */
    private VolumeFormat openForDeletes(VolumeMeta meta) throws IOException {
        VolumeFormat f = open(meta.size(), Lease.served(store()) ? VolumeFormat.Use.READ : VolumeFormat.Use.CHECK);
        boolean ok = false;
        try {
            if (f.mapProblem != null) throw new IOException(f.mapProblem + "; nothing was deleted; run ublk-gateway volume verify");
            if (!f.snapshotProblems.isEmpty()) {
                throw new IOException(f.snapshotProblems.getFirst() + "; nothing was deleted; run ublk-gateway volume verify");
            }
            ok = true;
            return f;
        } finally {
            if (!ok) f.close(f.lease != null);
        }
    }

    @Override
    public long deleteSnapshot(String snapshot) throws IOException {
        VolumeMeta meta = snapshotMeta(snapshot);
        refuseWithClones(snapshot, "deleted");
        VolumeFormat f = openForDeletes(meta);
        try {
            Snapshot target = f.snapshots.stream().filter(x -> x.name().equals(snapshot)).findFirst()
                    .orElseThrow(() -> noSnapshot(snapshot));
            // the manifest first: a delete that stops half-way leaves unreferenced objects (volume gc), never a manifest
            // that lists deleted objects
            f.objects.delete(Snapshot.key(snapshot));
            f.snapshots.remove(target);
            long[] g = target.gens();
            List<String> gone = new ArrayList<>();
            for (int i = 0; i < g.length; i++) {
                if (g[i] != 0 && f.map.get(i) != g[i] && !f.snapshotted(i, g[i]) && deletable(f, g[i])) gone.add(StoreLayer.key(i, g[i]));
            }
            ObjectStore s = RetryingStore.over(store(), RetryPolicy.DEFAULT);
            Parallel.run(gone.size(), config.writebackThreads(), i -> s.delete(gone.get((int) i)));
            return gone.size() + 1;
        } finally {
            f.close(f.lease != null);
        }
    }

    /**
     * Whether an object of generation {@code gen} that neither the stored map nor a snapshot lists may be
     * deleted. Under the lease: yes, nobody writes. Beside a serving gateway: only at or below the stored
     * map's counter. The gateway stores its map with a counter below every generation still being written
     * ({@link ChunkMap#snapshot}) and never reuses a generation, so an object at or below that counter which
     * that map does not list was replaced before the map was stored and no later map lists it again; one
     * above it may be a write the gateway has not recorded in a stored map yet. A snapshot the gateway takes
     * meanwhile lists only what its map listed, which for generations at or below the counter is what the
     * stored map (read before the manifests) lists.
     */
    private static boolean deletable(VolumeFormat f, long gen) {
        return f.lease != null || gen <= f.map.loadedCounter();
    }

    @Override
    public GcReport gc(boolean dryRun) throws IOException {
        VolumeMeta meta = snapshotMeta(null);
        List<CloneRef> clones = clones();
        if (!dryRun) {
            int stale = dropStale(clones);
            if (stale > 0) {
                java.util.logging.Logger.getLogger(ChunkedVolume.class.getName()).warning("volume " + name + ": removed " + stale
                        + " stale clone record(s) left by a clone or flatten that stopped half-way");
            }
        }
        VolumeFormat f = openForDeletes(meta);
        try {
            long count = f.map.count();
            long objects = 0, referenced = 0, kept = 0;
            List<String> gone = new ArrayList<>();
            for (String k : f.objects.store().list("chunks/", true)) {
                objects++;
                StoreLayer.Ref r = StoreLayer.ref(k);
                if (r == null) {
                    kept++; // not a name this volume's format writes: not ours to judge
                } else if (r.index() >= count) {
                    gone.add(k);
                } else if (f.map.get(r.index()) == r.gen() || f.snapshotted(r.index(), r.gen())) {
                    referenced++;
                } else if (!deletable(f, r.gen())) {
                    kept++;
                } else {
                    gone.add(k);
                }
            }
            if (!dryRun) {
                ObjectStore s = RetryingStore.over(store(), RetryPolicy.DEFAULT);
                Parallel.run(gone.size(), config.writebackThreads(), i -> s.delete(gone.get((int) i)));
            }
            return new GcReport(objects, referenced, gone.size(), kept);
        } finally {
            f.close(f.lease != null);
        }
    }

    /**
     * Format 2: every object the chunk map or a snapshot lists must exist, decode (codec CRC or GCM tag, which
     * binds the chunk index) and carry the generation its name says.
     */
    private VerifyReport verifyObjects(VolumeFormat f, LongConsumer bytesLeft) throws IOException {
        int cs = chunkSize();
        long count = f.map.count();
        List<Damage> damage = java.util.Collections.synchronizedList(new ArrayList<>());
        if (f.mapProblem != null) damage.add(new Damage(-1, -1, f.mapProblem));
        for (String p : f.snapshotProblems) damage.add(new Damage(-1, -1, p));
        // each listed object, with who lists it first (the map, else the oldest snapshot)
        java.util.Map<String, String> owner = new java.util.LinkedHashMap<>();
        if (f.mapProblem == null) {
            for (int i = 0; i < count; i++) if (f.map.get(i) != 0) owner.putIfAbsent(StoreLayer.key(i, f.map.get(i)), "the chunk map");
        }
        for (Snapshot sn : f.snapshots) {
            long[] g = sn.gens();
            for (int i = 0; i < g.length; i++) if (g[i] != 0) owner.putIfAbsent(StoreLayer.key(i, g[i]), "snapshot " + sn.name());
        }
        Set<String> stored = new HashSet<>(f.objects.store().list("chunks/", true));
        long unreferenced = stored.stream().filter(k -> !owner.containsKey(k)).count();
        List<String> check = new ArrayList<>();
        for (var e : owner.entrySet()) {
            StoreLayer.Ref r = StoreLayer.ref(e.getKey());
            if (stored.contains(e.getKey())) check.add(e.getKey());
            else damage.add(new Damage(r.index(), r.index() * cs, "missing: " + e.getValue() + " lists generation " + r.gen()
                    + " but the store has no object"));
        }
        AtomicLong done = new AtomicLong();
        long total = (long) check.size() * cs;
        bytesLeft.accept(total);
        Parallel.run(check.size(), config.writebackThreads(), k -> {
            String key = check.get((int) k);
            StoreLayer.Ref r = StoreLayer.ref(key);
            String who = owner.get(key).equals("the chunk map") ? "" : " (" + owner.get(key) + ")";
            try {
                byte[] frame = f.codecs.read(r.index(), r.gen());
                if (frame == null) throw new IOException("missing: the object vanished while being checked");
                if (frame.length != cs + GenerationCheck.TRAILER) throw new IOException("chunk " + r.index() + " decodes to " + frame.length + " bytes, not " + (cs + GenerationCheck.TRAILER));
                long g = java.nio.ByteBuffer.wrap(frame, cs, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                if (g != r.gen()) throw new IOException("its object for generation " + r.gen() + " holds generation " + g + ": a renamed or replaced object");
            } catch (IOException e) {
                damage.add(new Damage(r.index(), r.index() * cs, e.getMessage() + who));
            }
            bytesLeft.accept(total - done.addAndGet(cs));
        });
        // a clone: the parent objects its unwritten chunks (and its snapshots') read, up the chain
        long parents = 0;
        if (f.source != null) {
            List<Long> up = new ArrayList<>();
            for (long i = 0; i < count; i++) if (f.source.has(i)) up.add(i);
            parents = up.size();
            bytesLeft.accept(parents * cs);
            AtomicLong left = new AtomicLong(parents * cs);
            Parallel.run(up.size(), config.writebackThreads(), k -> {
                long i = up.get((int) k);
                try {
                    f.source.check(i);
                } catch (IOException e) {
                    damage.add(new Damage(i, i * cs, e.getMessage()));
                }
                bytesLeft.accept(left.addAndGet(-cs));
            });
        }
        List<Damage> sorted = new ArrayList<>(damage);
        sorted.sort(java.util.Comparator.comparingLong(Damage::chunk));
        return new VerifyReport(count, check.size() + parents, sorted, unreferenced);
    }

    @Override
    public void close() throws IOException {
        if (store != null) store.close();
    }
}
