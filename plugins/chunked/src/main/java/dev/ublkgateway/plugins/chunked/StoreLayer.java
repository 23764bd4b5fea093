package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ObjectStore;

import java.io.IOException;
import java.util.Optional;

/**
 * The bottom layer: chunk {@code i} is object {@code chunks/<i / 4096 in hex>/<i in hex>} of the
 * volume's object store, which also holds the volume's own objects (metadata, chunk map, lease).
 */
final class StoreLayer implements ChunkStore {
    private final ObjectStore store;

    StoreLayer(ObjectStore store) {
        this.store = store;
    }

    static String key(long index) {
        return "chunks/" + Long.toHexString(index >>> 12) + "/" + Long.toHexString(index);
    }

    /** The chunk index a key of {@link #key} names, or -1 for any other key. */
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

    /** One of the volume's own objects, by name. */
    Optional<byte[]> get(String key) throws IOException {
        return store.get(key);
    }

    void put(String key, byte[] data) throws IOException {
        store.put(key, data, 0, data.length);
    }
}
