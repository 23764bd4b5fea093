package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ProgressReporter;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Logger;

/**
 * Stores dirty chunks through the layers: in the background once they have been dirty for a while or a
 * sequential writer has gone past them, at once under memory pressure, at most {@code writeback-threads} at a time; and on demand for FLUSH
 * (every chunk dirty when it arrived, then the chunk map) and FUA writes.
 */
final class WriteBack {
    private static final Logger LOG = Logger.getLogger(WriteBack.class.getName());

    private final String volume;
    private final int chunkSize;
    private final ChunkCache cache;
    private final ChunkStore store;
    private final VolumeFormat format;
    private final ExecutorService workers;
    private final long delayNanos;
    private final Semaphore slots;
    private final ConcurrentLinkedQueue<byte[]> frames = new ConcurrentLinkedQueue<>();
    private final Thread flusher;
    private final ProgressReporter progress;
    private volatile boolean closing;
    // for the metrics endpoint: chunk writes and FLUSH barriers under way, chunks stored
    final LongAdder chunksInProgress = new LongAdder(), flushesInProgress = new LongAdder(), chunksStored = new LongAdder();

    /** A FLUSH finding at least this much dirty data publishes its progress as a cache drain. */
    static final long DRAIN_REPORT_BYTES = 32L << 20;

    WriteBack(String volume, int chunkSize, ChunkCache cache, ChunkStore store, VolumeFormat format, ExecutorService workers,
              int threads, int delayMs, ProgressReporter progress) {
        this.volume = volume;
        this.progress = progress;
        this.chunkSize = chunkSize;
        this.cache = cache;
        this.store = store;
        this.format = format;
        this.workers = workers;
        this.delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMs);
        this.slots = new Semaphore(threads);
        this.flusher = Thread.ofPlatform().daemon().name("writeback-" + volume).unstarted(this::loop);
    }

    void start() {
        flusher.start();
    }

    /** Stops the background write-back (FLUSH still works). */
    void stop() {
        closing = true;
        flusher.interrupt();
    }

    /** Stores the chunk if it is dirty; returns when what was dirty on entry is stored. */
    void writeBack(CachedChunk e) throws IOException {
        e.io.lock();
        byte[] frame = frames.poll();
        if (frame == null) frame = new byte[chunkSize + GenerationCheck.TRAILER];
        try {
            long gen;
            // copy under the lock, store outside it: writers to this chunk wait only for the copy
            e.lock.lock();
            try {
                if (e.removed || e.data == null || !e.dirty) return;
                if (format.lease.lost()) throw new IOException("another gateway took over the volume's lease");
                cache.complete(e); // overwritten in part only: the stored bytes of the rest first
                gen = e.writeGen;
                System.arraycopy(e.data, 0, frame, 0, chunkSize);
            } finally {
                e.lock.unlock();
            }
            chunksInProgress.increment();
            try {
                store.write(e.index, frame, chunkSize);
            } finally {
                chunksInProgress.decrement();
            }
            chunksStored.increment();
            e.lock.lock();
            try {
                e.storedGen = gen;
                e.passed = false;
                if (e.writeGen == gen) e.dirty = false;
            } finally {
                e.lock.unlock();
            }
        } finally {
            frames.add(frame);
            e.io.unlock();
        }
    }

    /** Stores the chunks and then the chunk map: a FUA write's chunks. */
    void writeThrough(List<CachedChunk> chunks) throws IOException {
        for (CachedChunk e : chunks) writeBack(e);
        format.persistMap();
    }

    /** Writes back every chunk dirty now, then the chunk map: the FLUSH barrier. Much data is published as a cache drain. */
    int flush() throws IOException {
        flushesInProgress.increment();
        try {
            return flushNow();
        } finally {
            flushesInProgress.decrement();
        }
    }

    private int flushNow() throws IOException {
        List<CachedChunk> dirty = cache.dirty();
        long bytes = (long) dirty.size() * chunkSize;
        if (bytes < DRAIN_REPORT_BYTES) return flush(dirty, ProgressReporter.Progress.NONE);
        ProgressReporter.Progress p = progress.start(ProgressReporter.CACHE_DRAIN, bytes);
        try {
            flush(dirty, p);
            p.done();
            return 0;
        } catch (IOException | RuntimeException e) {
            p.failed("volume " + volume + ": " + e.getMessage());
            throw e;
        }
    }

    /** As {@link #flush()}, counting each chunk stored (or found clean) into {@code p}, which the caller ends. */
    int flush(ProgressReporter.Progress p) throws IOException {
        return flush(cache.dirty(), p);
    }

    private int flush(List<CachedChunk> dirty, ProgressReporter.Progress p) throws IOException {
        List<Future<?>> done = new ArrayList<>(dirty.size());
        for (CachedChunk e : dirty) {
            done.add(workers.submit(() -> {
                slots.acquire();
                try {
                    writeBack(e);
                } finally {
                    slots.release();
                }
                p.advance(chunkSize);
                return null;
            }));
        }
        IOException failure = null;
        for (Future<?> f : done) {
            try {
                f.get();
            } catch (ExecutionException ex) {
                if (failure == null) {
                    failure = ex.getCause() instanceof IOException io ? io : new IOException(String.valueOf(ex.getCause()), ex.getCause());
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while flushing");
            }
        }
        if (failure != null) throw failure;
        format.persistMap();
        return 0;
    }

    /**
     * A sequential writer has written up to the end of the chunk and gone on: it is stored now rather than
     * after the delay, so a stream's chunks reach the store while it is still writing (and a FLUSH at its
     * end finds little left to store). A chunk written again after that waits for the delay as usual.
     */
    void passed(CachedChunk e) {
        if (e.passed || !e.dirty) return;
        e.passed = true;
        LockSupport.unpark(flusher);
    }

    private void loop() {
        while (!closing) {
            LockSupport.parkNanos(20_000_000);
            long now = System.nanoTime();
            long capacity = cache.capacity();
            boolean urgent = cache.takePressure() || cache.used() > capacity / 2 && cache.dirtyBytes() > capacity / 4;
            for (CachedChunk e : cache.dirty()) {
                if (!urgent && !e.passed && now - e.dirtySince < delayNanos) continue;
                if (e.io.isLocked() || !e.queued.compareAndSet(false, true)) continue;
                if (!slots.tryAcquire()) {
                    e.queued.set(false);
                    break;
                }
                workers.execute(() -> {
                    try {
                        writeBack(e);
                    } catch (IOException | RuntimeException ex) {
                        LOG.warning("volume " + volume + ": writing back chunk " + e.index + " failed (will retry): " + ex.getMessage());
                    } finally {
                        e.queued.set(false);
                        slots.release();
                    }
                });
            }
        }
    }
}
