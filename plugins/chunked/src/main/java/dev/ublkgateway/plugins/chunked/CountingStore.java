package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.RetryPolicy;

import java.io.IOException;
import java.util.Optional;

/** Counts a volume's store calls, their failures and the bytes they move ({@link StoreStats}) on their way to {@code store}. */
final class CountingStore implements ObjectStore {
    private final ObjectStore store;
    private final StoreStats stats;

    CountingStore(ObjectStore store, StoreStats stats) {
        this.store = store;
        this.stats = stats;
    }

    @Override
    public Optional<byte[]> get(String key) throws IOException {
        stats.called(StoreStats.GET);
        try {
            Optional<byte[]> data = store.get(key);
            if (data.isPresent()) stats.moved(StoreStats.GET, data.get().length);
            return data;
        } catch (IOException | RuntimeException e) {
            stats.failed(StoreStats.GET);
            throw e;
        }
    }

    @Override
    public void put(String key, byte[] data, int offset, int length) throws IOException {
        stats.called(StoreStats.PUT);
        try {
            store.put(key, data, offset, length);
            stats.moved(StoreStats.PUT, length);
        } catch (IOException | RuntimeException e) {
            stats.failed(StoreStats.PUT);
            throw e;
        }
    }

    @Override
    public void delete(String key) throws IOException {
        stats.called(StoreStats.DELETE);
        try {
            store.delete(key);
        } catch (IOException | RuntimeException e) {
            stats.failed(StoreStats.DELETE);
            throw e;
        }
    }

    /** Not counted: only offline volume operations list, and they serve no metrics. */
    @Override
    public java.util.List<String> list(String prefix, boolean recursive) throws IOException {
        return store.list(prefix, recursive);
    }

    @Override
    public RetryPolicy retries() {
        return store.retries();
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
