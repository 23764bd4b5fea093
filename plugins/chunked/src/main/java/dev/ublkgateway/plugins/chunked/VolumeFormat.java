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
import java.util.logging.Logger;

/**
 * A volume's own objects in its store: the metadata ({@link VolumeMeta}) that fixes its format, size,
 * chunk size and codecs, and proves the key; the chunk map; the lease. Opening creates them in an empty
 * store, or checks them against the configuration.
 */
final class VolumeFormat {
    private static final Logger LOG = Logger.getLogger(VolumeFormat.class.getName());
    /** Codec indexes of the volume's own objects (chunks are 0 and up). */
    static final long MAP_INDEX = -1, KEY_CHECK_INDEX = -2;
    private static final byte[] KEY_CHECK_PLAIN = "ublk-gateway chunked volume key check v1".getBytes(StandardCharsets.US_ASCII);

    final ChunkMap map;
    final Lease lease;
    final StoreLayer objects;
    final CodecLayer codecs;
    /** The volume's calls to its store (counted above the retries), and the store as given (it may count more). */
    final StoreStats storeStats;
    final ObjectStore given;
    private final Object mapIo = new Object();
    /** The metadata as stored; replaced when the volume grows. */
    private VolumeMeta meta;

    private VolumeFormat(ChunkMap map, Lease lease, StoreLayer objects, CodecLayer codecs, StoreStats storeStats, ObjectStore given) {
        this.map = map;
        this.lease = lease;
        this.objects = objects;
        this.codecs = codecs;
        this.storeStats = storeStats;
        this.given = given;
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
        /** an existing volume only; a chunk map that cannot be read is kept in {@link #mapProblem}, not thrown */
        CHECK
    }

    /** Why the chunk map could not be read (an open for {@link Use#CHECK}), else null; the map is then empty. */
    String mapProblem;

    static VolumeFormat open(DeviceDescriptor d, int chunkSize, boolean recovering, boolean forceTakeover, ObjectStore given,
                             List<String> codecNames, List<ChunkedTarget.CodecFactory> factories, Use use) throws IOException {
        StoreStats storeStats = new StoreStats();
        ObjectStore store = new CountingStore(RetryingStore.over(given, RetryPolicy.DEFAULT, storeStats), storeStats);
        String names = String.join(",", codecNames);
        StoreLayer objects = new StoreLayer(store);
        Lease lease = Lease.acquire(store, d.name(), recovering, forceTakeover);
        try {
            ChunkMap map = new ChunkMap(chunkCount(d, chunkSize));
            Optional<byte[]> metaBytes = objects.get(VolumeMeta.KEY);
            CodecLayer codecs;
            VolumeMeta meta;
            String mapProblem = null;
            if (metaBytes.isEmpty()) {
                if (use == Use.CHECK) throw new IOException("no volume " + d.name() + " in this store; check the name and the store");
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
                meta = new VolumeMeta(VolumeMeta.FORMAT, d.sizeBytes(), chunkSize, names, id, salt, check,
                        System.currentTimeMillis());
                objects.put(VolumeMeta.KEY, meta.toBytes());
                map.fresh();
                LOG.info("volume " + d.name() + ": created (chunk size " + chunkSize + ", codecs [" + names + "])");
            } else {
                if (use == Use.CREATE) {
                    throw new IOException("volume " + d.name() + " already exists in this store; delete it first"
                            + " (ublk-gateway volume delete) or choose another name");
                }
                meta = VolumeMeta.parse(metaBytes.get());
                check(meta, d, chunkSize, names);
                codecs = new CodecLayer(objects, factories, new VolumeInfo(meta.volumeId(), meta.kdfSalt()),
                        chunkSize + GenerationCheck.TRAILER);
                checkKey(meta, codecs, "volume " + d.name() + ": ");
                try {
                    loadMap(map, objects, codecs, "volume " + d.name() + ": ");
                } catch (IOException e) {
                    if (use != Use.CHECK) throw e;
                    mapProblem = e.getMessage();
                    map.fresh();
                }
            }
            VolumeFormat f = new VolumeFormat(map, lease, objects, codecs, storeStats, given);
            f.mapProblem = mapProblem;
            f.meta = meta;
            return f;
        } catch (IOException | RuntimeException e) {
            try {
                lease.close();
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
        if (meta.format() != VolumeMeta.FORMAT) {
            throw new IOException(v + "its metadata format " + meta.format() + " is not supported (this gateway reads format "
                    + VolumeMeta.FORMAT + "); use a gateway version that created it");
        }
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
        return new ZeroElision(new GenerationCheck(codecs, map, chunkSize, volume), chunkSize);
    }

    /**
     * Grows the volume to {@code newSize} bytes durably: the metadata first, then the map with its new
     * chunks. A stop between the two leaves a map shorter than the volume, which opens as unwritten chunks.
     */
    void grow(long newSize, long chunks) throws IOException {
        synchronized (mapIo) {
            VolumeMeta m = meta;
            VolumeMeta grown = new VolumeMeta(m.format(), newSize, m.chunkSize(), m.codecs(), m.volumeId(), m.kdfSalt(),
                    m.keyCheck(), m.created());
            objects.put(VolumeMeta.KEY, grown.toBytes());
            meta = grown;
            map.grow(chunks);
        }
        persistMap();
    }

    /** Stores the chunk map if it changed since it was last stored. */
    void persistMap() throws IOException {
        synchronized (mapIo) {
            if (!map.dirty()) return;
            byte[] snap = map.snapshot();
            try {
                objects.put(ChunkMap.KEY, codecs.encode(snap, snap.length, MAP_INDEX));
            } catch (IOException | RuntimeException e) {
                map.markDirty();
                throw e;
            }
        }
    }

    /** Releases the lease ({@code release}: unless writes were lost) and closes the store. */
    void close(boolean release) throws IOException {
        try {
            if (release) lease.close();
        } finally {
            objects.store().close();
        }
    }
}
