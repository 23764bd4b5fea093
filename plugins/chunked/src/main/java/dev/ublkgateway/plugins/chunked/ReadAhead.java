package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/** Loads the chunks after a sequential read into the cache in the background, a few at a time. */
final class ReadAhead {
    private final int chunkSize;
    private volatile long chunks;
    private final int ahead;
    private final ChunkCache cache;
    /** Whether a chunk has data to load (an object, or a clone's parent's). */
    private final java.util.function.LongPredicate stored;
    private final ExecutorService workers;
    private final Set<Long> loading = ConcurrentHashMap.newKeySet();

    /** @param ahead chunks to load after a sequential read (0: none) */
    ReadAhead(int chunkSize, long chunks, int ahead, ChunkCache cache, java.util.function.LongPredicate stored, ExecutorService workers) {
        this.chunkSize = chunkSize;
        this.chunks = chunks;
        this.ahead = ahead;
        this.cache = cache;
        this.stored = stored;
        this.workers = workers;
    }

    /** The volume grew to {@code chunks}. */
    void grow(long chunks) {
        this.chunks = chunks;
    }

    boolean enabled() {
        return ahead > 0;
    }

    /** Starts loading the stored chunks after byte {@code end} that are not cached or being loaded. */
    void after(long end) {
        long first = Math.ceilDiv(end, chunkSize);
        for (long i = first; i < first + ahead && i < chunks; i++) {
            if (!stored.test(i) || cache.cached(i) != null || !loading.add(i)) continue;
            long index = i;
            workers.execute(() -> {
                try {
                    CachedChunk e = cache.acquire(index, true, false);
                    if (e != null) e.lock.unlock();
                } catch (IOException e) {
                    // the read itself will report it
                } finally {
                    loading.remove(index);
                }
            });
        }
    }
}
