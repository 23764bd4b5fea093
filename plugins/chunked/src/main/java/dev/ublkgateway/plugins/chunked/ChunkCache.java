package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The chunks in memory, least recently used first, within a byte budget. Clean chunks are evicted to
 * make room; dirty ones wait for {@link WriteBack}, which is told to hurry when nothing can be evicted.
 */
final class ChunkCache {
    private final int chunkSize;
    private final long capacity;
    private final ChunkStore store;
    private final LinkedHashMap<Long, CachedChunk> lru = new LinkedHashMap<>(64, 0.75f, true);
    private final AtomicLong used = new AtomicLong();
    private volatile boolean pressure;

    /** @param store where chunks not cached are loaded from (the top of the layers) */
    ChunkCache(int chunkSize, long capacity, ChunkStore store) {
        this.chunkSize = chunkSize;
        this.capacity = capacity;
        this.store = store;
    }

    long capacity() {
        return capacity;
    }

    /** Bytes of chunks held in memory, dirty or clean (a chunk counts from when its room is reserved). */
    long used() {
        return used.get();
    }

    /** True once since the last call if a chunk could not be cached for want of clean chunks to evict. */
    boolean takePressure() {
        boolean p = pressure;
        pressure = false;
        return p;
    }

    /** The chunk's entry if cached (without locking it). Looking it up counts as a use. */
    CachedChunk cached(long index) {
        synchronized (lru) {
            return lru.get(index);
        }
    }

    /** Pieces a chunk is tracked in while it is overwritten without being loaded ({@link CachedChunk#missing}). */
    static final int PIECES = 64;

    /**
     * The chunk's entry, locked and with its data present (loaded through the store when {@code load},
     * and completed if it was being overwritten), or null when {@code blocking} is false and it cannot be
     * had without waiting.
     */
    CachedChunk acquire(long index, boolean load, boolean blocking) throws IOException {
        CachedChunk e = acquire(index, load, blocking, false);
        if (e != null && load && e.missing != 0) {
            try {
                complete(e);
            } catch (IOException | RuntimeException ex) {
                e.lock.unlock();
                throw ex;
            }
        }
        return e;
    }

    /**
     * The entry of a stored chunk about to be overwritten, locked, without reading it: a new entry has all
     * its pieces missing ({@link #complete} fetches them if they are needed before they are all written).
     * Null when {@code blocking} is false and it cannot be had without waiting.
     */
    CachedChunk acquireForOverwrite(long index, boolean blocking) throws IOException {
        return acquire(index, false, blocking, true);
    }

    /** True if {@code [pos, pos + n)} starts and ends on piece boundaries. */
    boolean aligned(int pos, int n) {
        int piece = chunkSize / PIECES;
        return pos % piece == 0 && (pos + n) % piece == 0;
    }

    /** The bits of the pieces that {@code [pos, pos + n)} covers entirely. */
    long covered(int pos, int n) {
        int piece = chunkSize / PIECES;
        int first = Math.ceilDiv(pos, piece), end = (pos + n) / piece;
        if (end <= first) return 0;
        return (end - first == 64 ? -1L : ((1L << (end - first)) - 1)) << first;
    }

    /** True if writing {@code [pos, pos + n)} into the entry needs no stored bytes first (it covers every missing piece it touches). */
    boolean canOverwrite(CachedChunk e, int pos, int n) {
        if (e.missing == 0) return true;
        int piece = chunkSize / PIECES;
        long touched = covered(pos / piece * piece, Math.ceilDiv(pos + n, piece) * piece - pos / piece * piece);
        return (touched & e.missing & ~covered(pos, n)) == 0;
    }

    /** Records that {@code [pos, pos + n)} was written (caller holds the lock and checked {@link #canOverwrite}). */
    void overwritten(CachedChunk e, int pos, int n) {
        if (e.missing != 0) e.missing &= ~covered(pos, n);
    }

    /** Loads the stored bytes of the entry's missing pieces under what was written (caller holds its lock). */
    void complete(CachedChunk e) throws IOException {
        if (e.missing == 0) return;
        byte[] stored = store.read(e.index);
        int piece = chunkSize / PIECES;
        for (int i = 0; i < PIECES; i++) {
            if ((e.missing & (1L << i)) == 0) continue;
            if (stored == null) java.util.Arrays.fill(e.data, i * piece, (i + 1) * piece, (byte) 0);
            else System.arraycopy(stored, i * piece, e.data, i * piece, piece);
        }
        e.missing = 0;
    }

    private CachedChunk acquire(long index, boolean load, boolean blocking, boolean overwrite) throws IOException {
        while (true) {
            CachedChunk e;
            synchronized (lru) {
                e = lru.get(index);
                if (e == null) {
                    e = new CachedChunk(index);
                    lru.put(index, e);
                }
            }
            if (blocking) {
                e.lock.lock();
            } else if (!e.lock.tryLock()) {
                return null;
            }
            if (e.removed) {
                e.lock.unlock();
                continue;
            }
            if (e.data != null) return e;
            if (!reserve(blocking)) {
                dropEmpty(e);
                e.lock.unlock();
                if (blocking) continue;
                return null;
            }
            byte[] data;
            try {
                data = load ? store.read(index) : null;
            } catch (IOException | RuntimeException ex) {
                used.addAndGet(-chunkSize);
                dropEmpty(e);
                e.lock.unlock();
                throw ex;
            }
            e.data = data != null ? data : new byte[chunkSize + GenerationCheck.TRAILER];
            if (overwrite) e.missing = -1L;
            e.storedGen = e.writeGen;
            return e;
        }
    }

    /** Counts one chunk against the budget, evicting clean chunks; false when none can be evicted and not {@code blocking}. */
    private boolean reserve(boolean blocking) {
        while (true) {
            long u = used.get();
            if (u + chunkSize <= capacity) {
                if (used.compareAndSet(u, u + chunkSize)) return true;
                continue;
            }
            if (evictOne()) continue;
            pressure = true;
            if (!blocking) return false;
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** Removes the least recently used clean chunk; false when there is none. */
    private boolean evictOne() {
        synchronized (lru) {
            Iterator<CachedChunk> it = lru.values().iterator();
            while (it.hasNext()) {
                CachedChunk e = it.next();
                // never an entry this thread holds (it may be the one being filled)
                if (e.dirty || e.lock.isHeldByCurrentThread() || !e.lock.tryLock()) continue;
                try {
                    if (e.dirty || e.removed) continue;
                    boolean held = e.data != null;
                    e.removed = true;
                    e.data = null;
                    it.remove();
                    if (held) {
                        used.addAndGet(-chunkSize);
                        return true;
                    }
                } finally {
                    e.lock.unlock();
                }
            }
        }
        return false;
    }

    /** Removes an entry that holds no data (caller holds its lock). */
    private void dropEmpty(CachedChunk e) {
        synchronized (lru) {
            if (lru.get(e.index) == e) lru.remove(e.index);
        }
        e.removed = true;
    }

    /** Forgets the chunk, written back or not (a discard of all of it); waits for a write-back in progress. */
    void drop(long index) {
        CachedChunk e = cached(index);
        if (e == null) return;
        e.io.lock();
        e.lock.lock();
        try {
            if (!e.removed) {
                synchronized (lru) {
                    if (lru.get(index) == e) lru.remove(index);
                }
                e.removed = true;
                if (e.data != null) used.addAndGet(-chunkSize);
                e.data = null;
                e.dirty = false;
                e.missing = 0;
            }
        } finally {
            e.lock.unlock();
            e.io.unlock();
        }
    }

    /** The chunks with writes not stored yet. */
    List<CachedChunk> dirty() {
        List<CachedChunk> list = new ArrayList<>();
        synchronized (lru) {
            for (CachedChunk e : lru.values()) if (e.dirty) list.add(e);
        }
        return list;
    }

    /** Bytes in chunks not yet stored. */
    long dirtyBytes() {
        return (long) dirty().size() * chunkSize;
    }
}
