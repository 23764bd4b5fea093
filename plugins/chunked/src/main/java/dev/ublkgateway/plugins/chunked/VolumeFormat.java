package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.RetryPolicy;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.VolumeInfo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.ArrayList;
import java.util.concurrent.ExecutorService;
import java.util.logging.Logger;

/**
 * A volume's own objects in its store: the metadata ({@link VolumeMeta}) that fixes its format, size,
 * chunk size and codecs, and proves the key; the chunk map; the lease. Opening creates them in an empty
 * store, or checks them against the configuration.
 */
final class VolumeFormat {
    private static final Logger LOG = Logger.getLogger(VolumeFormat.class.getName());
    /** Codec indexes of the volume's own objects (chunks are 0 and up). */
    static final long MAP_INDEX = -1, KEY_CHECK_INDEX = -2, SNAPSHOT_INDEX = -3;
    private static final byte[] KEY_CHECK_PLAIN = "ublk-gateway chunked volume key check v1".getBytes(StandardCharsets.US_ASCII);

    final ChunkMap map;
    final Lease lease;
    final StoreLayer objects;
    final CodecLayer codecs;
    /** The volume's calls to its store (counted above the retries), and the store as given (it may count more). */
    final StoreStats storeStats;
    final ObjectStore given;
    /** The metadata as stored (created or read); replaced when the volume grows. */
    volatile VolumeMeta meta;
    private final Object mapIo = new Object();
    /** Format 2: the snapshots (their objects are never reclaimed), and why one could not be read (then nothing is). */
    final List<Snapshot> snapshots = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<String> snapshotProblems = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Format 2: objects replaced in the map (index, generation) since it was last stored. */
    private final List<long[]> superseded = new ArrayList<>();
    private ExecutorService reclaimer;
    /** A clone's parent snapshot, which its unwritten chunks read from; null for a volume that is no clone. */
    CloneSource source;

    private VolumeFormat(ChunkMap map, Lease lease, StoreLayer objects, CodecLayer codecs, StoreStats storeStats, ObjectStore given,
                         VolumeMeta meta) {
        this.map = map;
        this.lease = lease;
        this.objects = objects;
        this.codecs = codecs;
        this.storeStats = storeStats;
        this.given = given;
        this.meta = meta;
    }

    int format() {
        return meta.format();
    }

    /** The volume's number of chunks; a size that needs more than the map can hold is refused with the fix. */
    static long chunkCount(DeviceDescriptor d, long chunkSize) throws IOException {
        long n = Math.ceilDiv(d.sizeBytes(), chunkSize);
        if (n > ChunkMap.MAX_CHUNKS) {
            long least = Long.highestOneBit(Math.ceilDiv(d.sizeBytes(), ChunkMap.MAX_CHUNKS) - 1) << 1;
            String fix = least <= ChunkedTargetConfig.MAX_CHUNK_SIZE
                    ? "use chunk-size " + Size.compact(least) + " or more, or a smaller size"
                    : "use a size of at most " + Size.compact(ChunkMap.MAX_CHUNKS * ChunkedTargetConfig.MAX_CHUNK_SIZE)
                            + " (with chunk-size " + Size.compact(ChunkedTargetConfig.MAX_CHUNK_SIZE) + ")";
            throw new IOException("volume " + d.name() + ": size " + Size.format(d.sizeBytes()) + " in chunks of "
                    + Size.format(chunkSize) + " is " + n + " chunks, more than the " + ChunkMap.MAX_CHUNKS
                    + " a volume can have; " + fix);
        }
        return n;
    }

    /**
     * Opens (or, in an empty store, creates) the volume: takes the lease, checks the metadata against
     * the configuration and the key, loads the chunk map.
     */
    static VolumeFormat open(DeviceDescriptor d, int chunkSize, boolean recovering, boolean forceTakeover, ObjectStore given,
                             List<String> codecNames, List<ChunkedTarget.CodecFactory> factories) throws IOException {
        return open(d, chunkSize, recovering, forceTakeover, given, codecNames, factories, Use.SERVE);
    }

    /** What an open is for: serving (creates a missing volume), creating (refuses an existing one), checking. */
    enum Use {
        SERVE, CREATE,
        /** as CREATE, with the metadata marked as an import under way until {@link #finishImport} */
        IMPORT,
        /** an existing volume only; a chunk map that cannot be read is kept in {@link #mapProblem}, not thrown */
        CHECK,
        /** as CHECK, without taking the lease: only for reading immutable objects, or what is safe beside a serving gateway */
        READ
    }

    /** Why the chunk map could not be read (an open for {@link Use#CHECK}), else null; the map is then empty. */
    String mapProblem;

    static VolumeFormat open(DeviceDescriptor d, int chunkSize, boolean recovering, boolean forceTakeover, ObjectStore given,
                             List<String> codecNames, List<ChunkedTarget.CodecFactory> factories, Use use) throws IOException {
        return open(d, chunkSize, recovering, forceTakeover, given, codecNames, factories, use, null, 0);
    }

    /**
     * As above; {@code cloneOf}: create the volume as a clone of that snapshot (with {@link Use#CREATE}).
     * {@code depth}: how many clones below this one opened it as their parent.
     */
    static VolumeFormat open(DeviceDescriptor d, int chunkSize, boolean recovering, boolean forceTakeover, ObjectStore given,
                             List<String> codecNames, List<ChunkedTarget.CodecFactory> factories, Use use, dev.ublkgateway.api.Volume.Parent cloneOf,
                             int depth) throws IOException {
        StoreStats storeStats = new StoreStats();
        ObjectStore store = new CountingStore(RetryingStore.over(given, RetryPolicy.DEFAULT, storeStats), storeStats);
        String names = String.join(",", codecNames);
        StoreLayer objects = new StoreLayer(store);
        Lease lease = use == Use.READ ? null : Lease.acquire(store, d.name(), recovering, forceTakeover);
        CloneSource source = null;
        try {
            ChunkMap map = new ChunkMap(chunkCount(d, chunkSize));
            Optional<byte[]> metaBytes = objects.get(VolumeMeta.KEY);
            CodecLayer codecs;
            VolumeMeta meta;
            String mapProblem = null;
            if (metaBytes.isEmpty()) {
                if (use == Use.CHECK || use == Use.READ) throw new IOException("no volume " + d.name() + " in this store; check the name and the store");
                if (objects.get(ChunkMap.KEY).isPresent()) {
                    throw new IOException("volume " + d.name() + ": the store holds a chunk map but no metadata object ("
                            + VolumeMeta.KEY + "); it was not created by this gateway or is damaged");
                }
                SecureRandom rnd = new SecureRandom();
                byte[] id = new byte[16], salt = new byte[32];
                rnd.nextBytes(id);
                rnd.nextBytes(salt);
                codecs = new CodecLayer(objects, factories, new VolumeInfo(id, salt), chunkSize + GenerationCheck.TRAILER);
                byte[] check = codecs.encode(KEY_CHECK_PLAIN.clone(), KEY_CHECK_PLAIN.length, KEY_CHECK_INDEX);
                if (cloneOf != null) source = CloneSource.open(given, cloneOf, d.name(), chunkSize, codecNames, factories, depth);
                meta = new VolumeMeta(VolumeMeta.FORMAT, d.sizeBytes(), chunkSize, names, id, salt, check, System.currentTimeMillis(),
                        use == Use.IMPORT, source == null ? null : source.ref);
                objects.put(VolumeMeta.KEY, meta.toBytes());
                map.fresh();
                LOG.info("volume " + d.name() + ": created (chunk size " + chunkSize + ", codecs [" + names + "])");
            } else {
                if (use == Use.CREATE || use == Use.IMPORT) {
                    throw new IOException("volume " + d.name() + " already exists in this store; delete it first"
                            + " (ublk-gateway volume delete) or choose another name");
                }
                meta = VolumeMeta.parse(metaBytes.get());
                // its chunks and map are partial: nothing but delete (which needs no open) may use it
                if (meta.importing()) throw new IOException(VolumeMeta.incomplete(d.name()));
                check(meta, d, chunkSize, names);
                objects.format = meta.format();
                codecs = new CodecLayer(objects, factories, new VolumeInfo(meta.volumeId(), meta.kdfSalt()),
                        chunkSize + GenerationCheck.TRAILER);
                checkKey(meta, codecs, "volume " + d.name() + ": ");
                try {
                    loadMap(map, objects, codecs, "volume " + d.name() + ": ");
                } catch (IOException e) {
                    if (use != Use.CHECK && use != Use.READ) throw e;
                    mapProblem = e.getMessage();
                    map.fresh();
                }
                if (meta.parent() != null) source = CloneSource.open(given, meta.parent(), d.name(), chunkSize, codecNames, factories, depth);
            }
            VolumeFormat f = new VolumeFormat(map, lease, objects, codecs, storeStats, given, meta);
            f.mapProblem = mapProblem;
            f.source = source;
            if (meta.format() >= 2 && metaBytes.isPresent()) f.loadSnapshots();
            return f;
        } catch (IOException | RuntimeException e) {
            if (source != null) {
                try {
                    source.close();
                } catch (IOException ignored) {
                    // the open failed anyway
                }
            }
            try {
                if (lease != null) lease.close();
            } catch (IOException ignored) {
                // the open failed anyway
            }
            throw e;
        }
    }

    /** The volume's metadata in {@code store}, or empty when it holds no volume. */
    static Optional<VolumeMeta> readMeta(ObjectStore store) throws IOException {
        Optional<byte[]> b = RetryingStore.over(store, RetryPolicy.DEFAULT).get(VolumeMeta.KEY);
        return b.isEmpty() ? Optional.empty() : Optional.of(VolumeMeta.parse(b.get()));
    }

    /** Refuses a configuration that differs from what the volume was created with. */
    private static void check(VolumeMeta meta, DeviceDescriptor d, long chunkSize, String names) throws IOException {
        String v = "volume " + d.name() + ": ";
        if (meta.format() > VolumeMeta.FORMAT) {
            throw new IOException(v + "its format " + meta.format() + " is newer than this gateway reads (formats 1 to "
                    + VolumeMeta.FORMAT + "); use a newer ublk-gateway");
        }
        if (meta.format() < 1) throw new IOException(v + "its metadata says format " + meta.format() + ", which does not exist; the metadata is damaged");
        if (meta.chunkSize() != chunkSize) {
            throw new IOException(v + "it was created with chunk-size " + meta.chunkSize() + " bytes, the configuration says "
                    + chunkSize + "; set chunk-size back (a volume's chunk size cannot change)");
        }
        if (!meta.codecs().equals(names)) {
            throw new IOException(v + "it was created with codecs [" + meta.codecs() + "], the configuration lists ["
                    + names + "]; list the same codecs in the same order");
        }
        if (meta.size() != d.sizeBytes()) {
            throw new IOException(v + "its size is " + meta.size() + " bytes (as created or last resized), the configuration says "
                    + d.sizeBytes() + "; set size to " + meta.size() + " bytes");
        }
    }

    /** Only the key (and codec settings) the volume was created with decode its key check. */
    private static void checkKey(VolumeMeta meta, CodecLayer codecs, String v) throws IOException {
        boolean ok;
        try {
            byte[] plain = codecs.decode(meta.keyCheck(), KEY_CHECK_INDEX, KEY_CHECK_PLAIN.length);
            ok = Arrays.equals(plain, KEY_CHECK_PLAIN);
        } catch (IOException | RuntimeException e) {
            ok = false;
        }
        if (!ok) {
            throw new IOException(v + "the key (or codec settings) does not match the one the volume was created with;"
                    + " use the original key");
        }
    }

    private static void loadMap(ChunkMap map, StoreLayer objects, CodecLayer codecs, String v) throws IOException {
        Optional<byte[]> stored = objects.get(ChunkMap.KEY);
        if (stored.isEmpty()) {
            map.fresh();
            return;
        }
        byte[] plain;
        try {
            plain = codecs.decode(stored.get(), MAP_INDEX, 24 + 8 * map.count());
            map.load(plain, plain.length);
        } catch (IOException e) {
            throw new IOException(v + "its chunk map object cannot be read (" + e.getMessage() + ")");
        }
    }

    /** The layers a chunk passes through on its way to the store, top first. */
    ChunkStore layers(int chunkSize, String volume) {
        return layers(map, chunkSize, volume);
    }

    /**
     * Grows the volume to {@code newSize} bytes durably: the metadata first, then the map with its new
     * chunks. A stop between the two leaves a map shorter than the volume, which opens as unwritten chunks.
     */
    void grow(long newSize, long chunks) throws IOException {
        synchronized (mapIo) {
            VolumeMeta m = meta;
            VolumeMeta grown = m.with(newSize, m.parent());
            objects.put(VolumeMeta.KEY, grown.toBytes());
            meta = grown;
            map.grow(chunks);
        }
        persistMap();
    }

    /** Ends an import: the chunks and the map are stored, so the metadata loses its import mark (the last write). */
    void finishImport() throws IOException {
        storeMeta(meta.importing(false));
    }

    /** The layers over {@code m} (the volume's map, or a snapshot's for reading it); a clone's read from its parent too. */
    ChunkStore layers(ChunkMap m, int chunkSize, String volume) {
        return new ZeroElision(cloneReader(m, chunkSize, volume), chunkSize);
    }

    /** The layers below zero elision: the generation check, and for a clone the parent under it. */
    ChunkStore cloneReader(ChunkMap m, int chunkSize, String volume) {
        ChunkStore own = new GenerationCheck(codecs, m, chunkSize, volume, format(), this::supersede);
        return source == null ? own : new CloneLayer(own, m, source, chunkSize);
    }

    /** The volume's own chunks only, without a clone's parent (what flatten writes through). */
    ChunkStore ownLayers(int chunkSize, String volume) {
        return new GenerationCheck(codecs, map, chunkSize, volume, format(), this::supersede);
    }

    /** Whether a chunk has data to read: an object of its own, or (a clone) one in its parent's snapshot. */
    boolean hasData(long index) {
        return map.get(index) != 0 || (source != null && source.has(index));
    }

    /** Stores new metadata (a flattened clone's, without its parent). */
    void storeMeta(VolumeMeta m) throws IOException {
        synchronized (mapIo) {
            objects.put(VolumeMeta.KEY, m.toBytes());
            meta = m;
        }
    }

    private void supersede(long index, long gen) {
        synchronized (superseded) {
            superseded.add(new long[] {index, gen});
        }
    }

    private List<long[]> drainSuperseded() {
        synchronized (superseded) {
            List<long[]> l = new ArrayList<>(superseded);
            superseded.clear();
            return l;
        }
    }

    /**
     * Stores the chunk map if it changed since it was last stored; then deletes the objects it no longer
     * lists (format 2), unless a snapshot lists them. An object is replaced in the map before it is handed
     * over here, so every object drained before the map is serialized is one the stored map no longer lists.
     */
    void persistMap() throws IOException {
        List<long[]> gone;
        synchronized (mapIo) {
            if (!map.dirty()) return;
            gone = drainSuperseded();
            storeMap(gone);
        }
        reclaim(gone);
    }

    /** Stores the map (under mapIo) and returns what it stored; on failure the map stays dirty and {@code gone} waits for the next one. */
    private byte[] storeMap(List<long[]> gone) throws IOException {
        byte[] snap = map.snapshot();
        try {
            objects.put(ChunkMap.KEY, codecs.encode(snap, snap.length, MAP_INDEX));
        } catch (IOException | RuntimeException e) {
            map.markDirty();
            synchronized (superseded) {
                superseded.addAll(0, gone);
            }
            throw e;
        }
        return snap;
    }

    /** Whether a snapshot lists the object (or one could not be read: then every object counts as listed). */
    boolean snapshotted(long index, long gen) {
        if (!snapshotProblems.isEmpty()) return true;
        for (Snapshot s : snapshots) if (s.references(index, gen)) return true;
        return false;
    }

    /** Deletes replaced objects no snapshot needs, in the background; one that fails stays for {@code volume gc}. */
    private void reclaim(List<long[]> gone) {
        if (gone.isEmpty()) return;
        synchronized (this) {
            if (reclaimer == null) {
                reclaimer = java.util.concurrent.Executors.newFixedThreadPool(4, Thread.ofPlatform().daemon().name("reclaim-", 0).factory());
            }
        }
        for (long[] r : gone) {
            // a gateway that lost its lease keeps its hands off: the new holder's map may list these
            if (lease != null && lease.lost()) return;
            if (snapshotted(r[0], r[1])) continue;
            reclaimer.execute(() -> {
                try {
                    objects.delete(StoreLayer.key(r[0], r[1]));
                } catch (IOException | RuntimeException e) {
                    LOG.warning("deleting replaced chunk object " + StoreLayer.key(r[0], r[1]) + " failed (volume gc removes it): "
                            + e.getMessage());
                }
            });
        }
    }

    /** Reads every snapshot manifest (format 2). A manifest that cannot be read is a problem: nothing is reclaimed then. */
    void loadSnapshots() throws IOException {
        snapshots.clear();
        snapshotProblems.clear();
        List<String> keys;
        try {
            keys = new ArrayList<>(objects.store().list(Snapshot.PREFIX, false));
        } catch (IOException e) {
            // serving needs no listing; without it the snapshots are unknown, so nothing is reclaimed (volume gc can later)
            snapshotProblems.add("the snapshots cannot be listed (" + e.getMessage() + ")");
            LOG.warning("volume: the snapshots cannot be listed (" + e.getMessage() + "); replaced chunk objects are kept"
                    + " and snapshot requests are not taken");
            return;
        }
        keys.sort(null);
        for (String k : keys) {
            String n = Snapshot.nameOf(k);
            if (n == null) continue;
            try {
                snapshots.add(readSnapshot(n).orElseThrow(() -> new IOException("snapshot " + n + " vanished while being read")));
            } catch (IOException e) {
                snapshotProblems.add(e.getMessage());
                LOG.warning(e.getMessage() + "; replaced chunk objects are kept (volume verify, volume gc)");
            }
        }
        snapshots.sort(java.util.Comparator.comparingLong(Snapshot::created).thenComparing(Snapshot::name));
    }

    /** Snapshot {@code name}'s manifest, checked, or empty when there is none. */
    Optional<Snapshot> readSnapshot(String name) throws IOException {
        Optional<byte[]> b = objects.get(Snapshot.key(name));
        if (b.isEmpty()) return Optional.empty();
        byte[] plain;
        try {
            plain = codecs.decode(b.get(), SNAPSHOT_INDEX, Snapshot.maxPlain(map.count()));
        } catch (IOException | RuntimeException e) {
            throw new IOException("the manifest of snapshot " + name + " cannot be decoded (" + e.getMessage() + ")");
        }
        return Optional.of(Snapshot.parse(plain, name, meta));
    }

    /**
     * Takes snapshot {@code name} of the map as it is now: stores the map and then the manifest, a copy of
     * the same bytes. Call it after the chunks are stored (a FLUSH), so the snapshot is crash-consistent.
     * The map lock is held throughout, so no later map is stored before the manifest is (what gc relies on).
     */
    Snapshot takeSnapshot(String name, long created) throws IOException {
        if (format() < 2) throw new IOException(formatOneSnapshots());
        if (!snapshotProblems.isEmpty()) throw new IOException(snapshotProblems.getFirst() + "; run ublk-gateway volume verify");
        List<long[]> gone;
        Snapshot s;
        synchronized (mapIo) {
            if (objects.get(Snapshot.key(name)).isPresent()) throw new IOException("snapshot " + name + " exists; choose another name");
            gone = drainSuperseded();
            map.markDirty();
            byte[] snap = storeMap(gone); // the manifest holds exactly the map just stored
            ChunkMap.Stored st = ChunkMap.parse(snap, 0, snap.length, map.count());
            byte[] plain = Snapshot.plain(name, created, meta, snap);
            try {
                objects.put(Snapshot.key(name), codecs.encode(plain, plain.length, SNAPSHOT_INDEX));
            } catch (IOException | RuntimeException e) {
                map.markDirty();
                synchronized (superseded) {
                    superseded.addAll(0, gone);
                }
                throw e;
            }
            s = new Snapshot(name, created, st.counter(), st.gens(), meta.size());
            snapshots.add(s);
        }
        reclaim(gone);
        return s;
    }

    static String formatOneSnapshots() {
        return "the volume is format 1 (chunks rewritten in place), which has no snapshots; export it and import it into a new "
                + "volume to convert it to format " + VolumeMeta.FORMAT;
    }

    /** Makes the map the snapshot's; the objects only the current map listed go once it is stored. */
    void rollback(Snapshot s) throws IOException {
        long[] cur = map.gens();
        synchronized (superseded) {
            for (int i = 0; i < cur.length; i++) {
                if (cur[i] != 0 && cur[i] != (i < s.gens().length ? s.gens()[i] : 0)) superseded.add(new long[] {i, cur[i]});
            }
        }
        map.restore(s.gens());
        persistMap();
    }

    /** Waits for the deletes under way, releases the lease ({@code release}: unless writes were lost) and closes the store. */
    void close(boolean release) throws IOException {
        try {
            ExecutorService r;
            synchronized (this) {
                r = reclaimer;
            }
            if (r != null) {
                r.shutdown();
                try {
                    if (!r.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS)) {
                        LOG.warning("replaced chunk objects are still being deleted; volume gc removes what is left");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (release && lease != null) lease.close();
        } finally {
            try {
                if (source != null) source.close();
            } finally {
                objects.store().close();
            }
        }
    }
}
