package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/**
 * Loads the chunks after a sequential read into the cache in the background. The window starts at
 * {@code read-ahead} chunks and grows by one for each chunk a sequential run has read, up to
 * {@link #GROWTH} times that (and a quarter of the cache): a long stream keeps many loads in flight
 * and hides the store's latency, a short run or a random reader loads little it will not use.
 */
final class ReadAhead {
    /** The window grows up to this many times {@code read-ahead}. */
    static final int GROWTH = 8;

    private final int chunkSize;
    private volatile long chunks;
    private final int ahead, most;
    private final ChunkCache cache;
    /** Whether a chunk has data to load (an object, or a clone's parent's). */
    private final java.util.function.LongPredicate stored;
    private final ExecutorService workers;
    private final Set<Long> loading = ConcurrentHashMap.newKeySet();

    /** @param ahead chunks to load after the first sequential read (0: none) */
    ReadAhead(int chunkSize, long chunks, int ahead, ChunkCache cache, java.util.function.LongPredicate stored, ExecutorService workers) {
        this.chunkSize = chunkSize;
        this.chunks = chunks;
        this.ahead = ahead;
        this.most = (int) Math.max(ahead, Math.min((long) ahead * GROWTH, cache.capacity() / chunkSize / 4));
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

    /** Chunks loaded ahead of a sequential run that has read {@code run} bytes so far. */
    int window(long run) {
        return (int) Math.min(most, ahead + run / chunkSize);
    }

    /**
     * Starts loading the stored chunks after byte {@code end} that are not cached or being loaded, for a
     * sequential run that has read {@code run} bytes up to there.
     */
    void after(long end, long run) {
        long first = Math.ceilDiv(end, chunkSize);
        int window = window(run);
        for (long i = first; i < first + window && i < chunks; i++) {
            if (!stored.test(i) || loading.contains(i) || cache.cached(i) != null || !loading.add(i)) continue;
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
