package dev.ublkgateway.plugins.chunked;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/** One chunk in the cache: its bytes and whether they still need writing back. */
final class CachedChunk {
    final long index;
    final ReentrantLock lock = new ReentrantLock();   // data, generations, removed
    final ReentrantLock io = new ReentrantLock();     // one store write of this chunk at a time
    final AtomicBoolean queued = new AtomicBoolean(); // handed to a background write-back
    byte[] data;                                      // chunkSize + 8 (room for the generation), null until loaded
    long writeGen, storedGen;
    volatile long dirtySince;
    volatile boolean dirty;
    /** A sequential writer has moved past the chunk: written back without waiting for the delay. */
    volatile boolean passed;
    boolean removed;
    /**
     * Pieces (1/64 of the chunk each) whose stored bytes are not in {@code data} yet: a stored chunk being
     * overwritten is not read first; it is loaded (and merged under the new bytes) only if it is read,
     * written back or written in part of a piece before all of it has been overwritten. 0: complete.
     */
    long missing;

    CachedChunk(long index) {
        this.index = index;
    }

    /** Records a write to the chunk (caller holds its lock). */
    void markDirty() {
        writeGen++;
        if (!dirty) {
            dirtySince = System.nanoTime();
            dirty = true;
        }
    }
}
