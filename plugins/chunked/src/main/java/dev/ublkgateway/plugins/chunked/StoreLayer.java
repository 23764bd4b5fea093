package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ObjectStore;

import java.io.IOException;
import java.util.Optional;

/**
 * The bottom layer: in a format 1 volume chunk {@code i} is object {@code chunks/<i / 4096 in hex>/<i in hex>},
 * rewritten in place; in format 2 each generation {@code g} of it is an object of its own,
 * {@code chunks/<i / 4096 in hex>/<i in hex>.<g in hex>}, so a snapshot can keep an old one. The volume's
 * object store also holds the volume's own objects (metadata, chunk map, lease, snapshots).
 */
final class StoreLayer implements ChunkStore {
    private final ObjectStore store;
    /** The volume's format (1 or 2), known once its metadata is read; new volumes are {@link VolumeMeta#FORMAT}. */
    volatile int format = VolumeMeta.FORMAT;

    StoreLayer(ObjectStore store) {
        this.store = store;
    }

    static String key(long index) {
        return "chunks/" + Long.toHexString(index >>> 12) + "/" + Long.toHexString(index);
    }

    /** The format 2 key of generation {@code gen} of chunk {@code index}. */
    static String key(long index, long gen) {
        return key(index) + "." + Long.toHexString(gen);
    }

    /** The chunk index a key of {@link #key(long)} names, or -1 for any other key. */
    static long index(String key) {
        String[] parts = key.split("/");
        if (parts.length != 3 || !parts[0].equals("chunks")) return -1;
        try {
            long i = Long.parseUnsignedLong(parts[2], 16);
            return i >= 0 && key.equals(key(i)) ? i : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A chunk object a format 2 key names. */
    record Ref(long index, long gen) {}

    /** The chunk and generation a key of {@link #key(long, long)} names, or null for any other key. */
    static Ref ref(String key) {
        int dot = key.lastIndexOf('.');
        if (dot < 0) return null;
        long i = index(key.substring(0, dot));
        if (i < 0) return null;
        try {
            long g = Long.parseUnsignedLong(key.substring(dot + 1), 16);
            return g > 0 && key.equals(key(i, g)) ? new Ref(i, g) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private String key(long index, long gen, boolean unused) {
        return format >= 2 ? key(index, gen) : key(index);
    }

    ObjectStore store() {
        return store;
    }

    @Override
    public byte[] read(long index) throws IOException {
        return store.get(key(index)).orElse(null);
    }

    @Override
    public void write(long index, byte[] data, int length) throws IOException {
        store.put(key(index), data, 0, length);
    }

    @Override
    public void delete(long index) throws IOException {
        store.delete(key(index));
    }

    @Override
    public byte[] read(long index, long gen) throws IOException {
        return store.get(key(index, gen, true)).orElse(null);
    }

    @Override
    public void write(long index, long gen, byte[] data, int length) throws IOException {
        store.put(key(index, gen, true), data, 0, length);
    }

    @Override
    public void delete(long index, long gen) throws IOException {
        store.delete(key(index, gen, true));
    }

    void delete(String key) throws IOException {
        store.delete(key);
    }

    /** One of the volume's own objects, by name. */
    Optional<byte[]> get(String key) throws IOException {
        return store.get(key);
    }

    void put(String key, byte[] data) throws IOException {
        store.put(key, data, 0, data.length);
    }
}
