package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.MetricsSource;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ProgressReporter;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.api.VolumeInfo;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A volume split into fixed-size chunks, one object per chunk, with a write-back chunk cache.
 *
 * <p>Requests whose chunks are cached complete on the queue thread; the rest (store reads, FLUSH, FUA
 * writes, discards) run on virtual threads and complete through {@link BlockRequest#complete}. Chunks
 * reach the store through stacked layers ({@link ChunkStore}): all-zero chunks are deleted instead of
 * stored, each stored chunk carries a generation checked against the chunk map on load, and the codecs
 * encode it. The cache ({@link ChunkCache}), its write-back ({@link WriteBack}) and read-ahead
 * ({@link ReadAhead}) sit on top; the volume's own objects are {@link VolumeFormat}'s.
 */
public final class ChunkedTarget implements Target, MetricsSource {
    private static final Logger LOG = Logger.getLogger(ChunkedTarget.class.getName());

    /** Creates one codec for a volume; called once per codec chain (one per concurrent worker). */
    @FunctionalInterface
    public interface CodecFactory {
        ChunkCodec create(VolumeInfo volume) throws IOException;
    }

    private final String volume;
    private final String storeType;
    private final List<String> codecNames;
    private final int chunkSize;
    private final VolumeFormat format;
    private final ChunkMap map;
    private final ChunkStore layers;
    private final ChunkCache cache;
    private final WriteBack writeBack;
    /** Format 2: snapshot requests of {@code volume snapshot}, taken here; null for format 1. */
    private final SnapshotRequests snapshotRequests;
    private final ReadAhead readAhead;
    private final ProgressReporter progress;
    /** The volume's size in bytes; grows with {@link #resize}. */
    private volatile long size;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();

    /** A discard of at least this many whole chunks (object deletes) publishes its progress. */
    static final int DISCARD_REPORT_CHUNKS = 64;
    private static final long LOG_EVERY_NANOS = 5_000_000_000L;

    private ChunkedTarget(DeviceDescriptor d, ChunkedTargetConfig c, VolumeFormat format, List<String> codecNames,
                          ProgressReporter progress) {
        this.volume = d.name();
        this.storeType = c.store() == null ? "unknown" : c.store().type();
        this.codecNames = List.copyOf(codecNames);
        this.progress = progress;
        this.chunkSize = (int) c.chunkSize().bytes();
        this.size = d.sizeBytes();
        this.format = format;
        this.map = format.map;
        this.layers = format.layers(chunkSize, volume);
        this.cache = new ChunkCache(chunkSize, c.cache().bytes(), layers);
        this.writeBack = new WriteBack(volume, chunkSize, cache, layers, format, workers, c.writebackThreads(), c.writebackDelayMs(),
                progress);
        this.readAhead = new ReadAhead(chunkSize, Math.ceilDiv(d.sizeBytes(), chunkSize), c.readAhead(), cache, format::hasData, workers);
        this.snapshotRequests = format.format() < 2 || !format.snapshotProblems.isEmpty() ? null
                : new SnapshotRequests(format.objects.store(), volume, ChunkedVolume.requestPollMillis, this::takeSnapshot);
    }

    /** A snapshot of the volume as served: a FLUSH barrier (every write acknowledged so far is stored), then the manifest. */
    void takeSnapshot(String name) throws IOException {
        if (format.lease.lost()) throw new IOException("another gateway took over the volume's lease");
        writeBack.flush();
        format.takeSnapshot(name, System.currentTimeMillis());
    }

    /** The snapshot requests waiting now, taken (for tests: the gateway looks for them every few seconds). */
    int takeSnapshotRequests() throws IOException {
        return snapshotRequests == null ? 0 : snapshotRequests.poll();
    }

    /** As {@link #open(ChunkedTargetConfig, DeviceDescriptor, boolean, boolean, ObjectStore, List, List)}, without forcing a takeover. */
    public static ChunkedTarget open(ChunkedTargetConfig c, DeviceDescriptor d, boolean recovering, ObjectStore store,
                                     List<String> codecNames, List<CodecFactory> codecs) throws IOException {
        return open(c, d, recovering, false, store, codecNames, codecs);
    }

    /** As {@link #open(ChunkedTargetConfig, DeviceDescriptor, boolean, boolean, ObjectStore, List, List, ProgressReporter)}, publishing nothing. */
    public static ChunkedTarget open(ChunkedTargetConfig c, DeviceDescriptor d, boolean recovering, boolean forceTakeover,
                                     ObjectStore store, List<String> codecNames, List<CodecFactory> codecs) throws IOException {
        return open(c, d, recovering, forceTakeover, store, codecNames, codecs, ProgressReporter.NONE);
    }

    /**
     * Opens (or, in an empty store, creates) the volume in {@code store}: see {@link VolumeFormat#open}.
     * {@code forceTakeover}: take the volume's lease over whoever holds it. Long operations (the flush at
     * close, a FLUSH of much data, a large discard) are published through {@code progress}.
     */
    public static ChunkedTarget open(ChunkedTargetConfig c, DeviceDescriptor d, boolean recovering, boolean forceTakeover,
                                     ObjectStore store, List<String> codecNames, List<CodecFactory> codecs,
                                     ProgressReporter progress) throws IOException {
        VolumeFormat format = VolumeFormat.open(d, (int) c.chunkSize().bytes(), recovering, forceTakeover, store, codecNames, codecs);
        ChunkedTarget t = new ChunkedTarget(d, c, format, codecNames, progress);
        t.writeBack.start();
        if (t.snapshotRequests != null) t.snapshotRequests.start();
        return t;
    }

    @Override
    public boolean volatileCache() {
        return true;
    }

    /**
     * A chunk with no stored object (generation 0) reads as zeros without the store: a hole, unless its
     * cached copy has writes not stored yet. Answered from the map and the cache, never the store.
     * Looking a chunk up counts as a use for the cache's eviction order; that is harmless.
     */
    @Override
    public int extents(long offset, long length, ExtentSink sink) {
        ChunkWalk w = new ChunkWalk(chunkSize).over(offset, length);
        while (w.next()) {
            // the map is set before an entry is marked clean, so a chunk being written back never looks empty
            boolean hole = !format.hasData(w.index);
            if (hole) {
                CachedChunk e = cache.cached(w.index);
                hole = e == null || !e.dirty;
            }
            if (!sink.extent(w.n, hole ? ExtentSink.HOLE | ExtentSink.ZERO : 0)) return 0;
        }
        return 0;
    }

    @Override
    public TargetQueue openQueue(QueueContext q) {
        return new Queue();
    }

    private final class Queue implements TargetQueue {
        private final ChunkWalk walk = new ChunkWalk(chunkSize);
        private long lastEnd = -1;
        /** Bytes read by the current sequential run: the read-ahead window grows with it. */
        private long run;
        private long lastWriteEnd = -1;

        @Override
        public int submit(BlockRequest r) {
            switch (r.op()) {
                case BlockOp.READ -> {
                    boolean sequential = r.offset() == lastEnd;
                    lastEnd = r.offset() + r.length();
                    run = sequential ? run + r.length() : r.length();
                    if (sequential && readAhead.enabled()) readAhead.after(lastEnd, run);
                    if (readInline(r, walk)) return r.length();
                    return async(r, () -> read(r));
                }
                case BlockOp.WRITE -> {
                    if (format.lease.lost()) return -Errno.EIO;
                    boolean sequential = r.offset() == lastWriteEnd;
                    lastWriteEnd = r.offset() + r.length();
                    if (!r.fua() && writeInline(r, walk)) {
                        if (sequential) passed(r.offset(), lastWriteEnd);
                        return r.length();
                    }
                    return async(r, () -> {
                        int n = write(r);
                        if (sequential) passed(r.offset(), r.offset() + r.length());
                        return n;
                    });
                }
                case BlockOp.FLUSH -> {
                    return async(r, writeBack::flush);
                }
                case BlockOp.DISCARD, BlockOp.WRITE_ZEROES -> {
                    if (format.lease.lost()) return -Errno.EIO;
                    return async(r, () -> discard(r.offset(), r.length()));
                }
                default -> {
                    return -Errno.EOPNOTSUPP;
                }
            }
        }
    }

    /**
     * A sequential write of {@code [off, end)} went past the chunks that end at or before {@code end}
     * (the one before {@code off} included): the write-back may store them now.
     */
    private void passed(long off, long end) {
        for (long i = off == 0 ? 0 : (off - 1) / chunkSize; (i + 1) * chunkSize <= end; i++) {
            CachedChunk e = cache.cached(i);
            if (e != null) writeBack.passed(e);
        }
    }

    private int async(BlockRequest r, Callable<Integer> work) {
        workers.execute(() -> {
            int result;
            try {
                result = work.call();
            } catch (IOException e) {
                LOG.warning("volume " + volume + ": " + BlockOp.name(r.op()) + " at " + r.offset() + " failed: " + e.getMessage());
                result = -Errno.EIO;
            } catch (Exception | Error e) {
                LOG.log(Level.SEVERE, "volume " + volume + ": " + BlockOp.name(r.op()) + " at " + r.offset() + " failed", e);
                result = -Errno.EIO;
            }
            r.complete(result);
        });
        return TargetQueue.PENDING;
    }

    // ---------------------------------------------------------------- fast paths (queue thread, never block)

    private boolean readInline(BlockRequest r, ChunkWalk w) {
        MemorySegment buf = r.buffer();
        w.over(r.offset(), r.length());
        while (w.next()) {
            CachedChunk e = cache.cached(w.index);
            if (e == null) {
                if (format.hasData(w.index)) return false;
                buf.asSlice(w.done, w.n).fill((byte) 0);
                continue;
            }
            if (!e.lock.tryLock()) return false;
            try {
                if (e.removed || e.data == null || e.missing != 0) return false; // a chunk being overwritten may need loading
                MemorySegment.copy(e.data, w.pos, buf, ValueLayout.JAVA_BYTE, w.done, w.n);
            } finally {
                e.lock.unlock();
            }
        }
        return true;
    }

    private boolean writeInline(BlockRequest r, ChunkWalk w) {
        MemorySegment buf = r.buffer();
        w.over(r.offset(), r.length());
        while (w.next()) {
            CachedChunk e = cache.cached(w.index);
            if (e == null) {
                // a chunk that needs no load: never written, or overwritten in whole pieces (loaded only if
                // it is needed before all of it is overwritten: no read-modify-write for sequential writes)
                boolean stored = format.hasData(w.index) && !w.whole();
                if (stored && !cache.aligned(w.pos, w.n)) return false;
                try {
                    e = stored ? cache.acquireForOverwrite(w.index, false) : cache.acquire(w.index, false, false);
                } catch (IOException ex) {
                    return false;
                }
                if (e == null) return false;
            } else if (!e.lock.tryLock()) {
                return false;
            } else if (e.removed || e.data == null) {
                e.lock.unlock();
                return false;
            }
            if (!cache.canOverwrite(e, w.pos, w.n)) { // part of a piece not loaded yet: the slow path loads it
                e.lock.unlock();
                return false;
            }
            try {
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, w.done, e.data, w.pos, w.n);
                cache.overwritten(e, w.pos, w.n);
                e.markDirty();
            } finally {
                e.lock.unlock();
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- slow paths (virtual threads)

    private int read(BlockRequest r) throws IOException {
        MemorySegment buf = r.buffer();
        ChunkWalk w = new ChunkWalk(chunkSize).over(r.offset(), r.length());
        while (w.next()) {
            if (cache.cached(w.index) == null && !format.hasData(w.index)) {
                buf.asSlice(w.done, w.n).fill((byte) 0);
                continue;
            }
            CachedChunk e = cache.acquire(w.index, true, true);
            try {
                MemorySegment.copy(e.data, w.pos, buf, ValueLayout.JAVA_BYTE, w.done, w.n);
            } finally {
                e.lock.unlock();
            }
        }
        return r.length();
    }

    private int write(BlockRequest r) throws IOException {
        MemorySegment buf = r.buffer();
        List<CachedChunk> touched = r.fua() ? new ArrayList<>() : null;
        ChunkWalk w = new ChunkWalk(chunkSize).over(r.offset(), r.length());
        while (w.next()) {
            boolean overwrite = !w.whole() && cache.aligned(w.pos, w.n) && format.hasData(w.index);
            CachedChunk e = overwrite ? cache.acquireForOverwrite(w.index, true) : cache.acquire(w.index, !w.whole(), true);
            try {
                if (!cache.canOverwrite(e, w.pos, w.n)) cache.complete(e);
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, w.done, e.data, w.pos, w.n);
                cache.overwritten(e, w.pos, w.n);
                e.markDirty();
            } finally {
                e.lock.unlock();
            }
            if (touched != null) touched.add(e);
        }
        if (touched != null) writeBack.writeThrough(touched);
        return r.length();
    }

    /**
     * DISCARD and WRITE_ZEROES: whole chunks lose their object, parts of chunks are zeroed in the cache. One
     * spanning many chunks publishes its progress and logs it every few seconds.
     */
    private int discard(long off, int len) throws IOException {
        if ((long) len / chunkSize < DISCARD_REPORT_CHUNKS) return discard(off, len, ProgressReporter.Progress.NONE);
        ProgressReporter.Progress p = progress.start(ProgressReporter.DISCARD, len);
        LOG.info("volume " + volume + ": discarding " + mib(len) + " at " + off);
        try {
            discard(off, len, p);
        } catch (IOException | RuntimeException e) {
            p.failed("volume " + volume + ": discard at " + off + " failed: " + e.getMessage());
            throw e;
        }
        p.done();
        LOG.info("volume " + volume + ": discarded " + mib(len) + " at " + off);
        return 0;
    }

    private int discard(long off, int len, ProgressReporter.Progress p) throws IOException {
        boolean logged = p != ProgressReporter.Progress.NONE;
        long lastLog = System.nanoTime();
        ChunkWalk w = new ChunkWalk(chunkSize).over(off, len);
        while (w.next()) {
            if (logged && System.nanoTime() - lastLog >= LOG_EVERY_NANOS) {
                lastLog = System.nanoTime();
                LOG.info("volume " + volume + ": discarding, " + mib(w.done) + " of " + mib(len) + " done");
            }
            if (w.whole()) {
                cache.drop(w.index);
                layers.delete(w.index);
            } else if (cache.cached(w.index) != null || format.hasData(w.index)) {
                CachedChunk e = cache.acquire(w.index, true, true);
                try {
                    Arrays.fill(e.data, w.pos, w.pos + w.n, (byte) 0);
                    e.markDirty();
                } finally {
                    e.lock.unlock();
                }
            }
            p.advance(w.n);
        }
        return 0;
    }

    /** The chunk's cache entry, or null when it is not cached (for tests). */
    CachedChunk cachedChunk(long index) {
        return cache.cached(index);
    }

    /** Bytes in chunks not yet stored. */
    public long dirtyBytes() {
        return cache.dirtyBytes();
    }

    /**
     * The cache, the write-back, the store calls (labelled with the store's type), the lease and the codecs
     * (labelled with the codec's type), and whatever the store and the codecs report themselves.
     */
    @Override
    public void reportMetrics(MetricsSink sink) {
        long dirty = cache.dirtyBytes();
        sink.gauge("chunked_cache_dirty_bytes", "Bytes of cached chunks with writes not stored yet", dirty);
        sink.gauge("chunked_cache_clean_bytes", "Bytes of cached chunks that match the store", Math.max(0, cache.used() - dirty));
        sink.gauge("chunked_cache_capacity_bytes", "The cache's size (cache:)", cache.capacity());
        sink.gauge("chunked_writeback_chunks_in_progress", "Chunk writes to the store under way", writeBack.chunksInProgress.sum());
        sink.counter("chunked_writeback_chunks_total", "Chunks written back to the store", writeBack.chunksStored.sum());
        sink.gauge("chunked_flushes_in_progress", "FLUSH requests (and flushes on close) storing the dirty chunks",
                writeBack.flushesInProgress.sum());
        MetricsSink store = sink.withLabels("store", storeType);
        format.storeStats.report(store);
        if (format.given instanceof MetricsSource own) own.reportMetrics(store);
        format.lease.report(sink);
        List<ChunkCodec> codecs = format.codecs.sample();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < codecs.size() && i < codecNames.size(); i++) {
            // instances of one type on one volume share their counters: report them once
            if (codecs.get(i) instanceof MetricsSource m && seen.add(codecNames.get(i))) {
                m.reportMetrics(sink.withLabels("codec", codecNames.get(i)));
            }
        }
    }

    /**
     * Grows the volume: its metadata and chunk map in the store say the new size before this returns, so a
     * reopen (or a recover) finds it. New chunks have no object and read as zeros. Shrinking is refused:
     * the chunks beyond the end would have to be deleted while writes may still be in flight to them.
     */
    @Override
    public synchronized void resize(long newSize, boolean allowShrink) throws IOException {
        long size = this.size;
        if (newSize == size) return;
        if (newSize < size) {
            throw new IOException("volume " + volume + ": a chunked volume cannot shrink; export the data you need "
                    + "(volume export) into a smaller volume instead");
        }
        if (format.lease.lost()) throw new IOException("volume " + volume + ": its lease was lost; it cannot grow");
        long chunks = VolumeFormat.chunkCount(new DeviceDescriptor(volume, newSize, 512, 1, 1, 4096), chunkSize);
        format.grow(newSize, chunks);
        readAhead.grow(chunks);
        this.size = newSize;
        LOG.info("volume " + volume + ": grown to " + newSize + " bytes (" + chunks + " chunks)");
    }

    /** Flushes everything (publishing its progress), releases the lease and the store. */
    @Override
    public void close() throws IOException {
        long dirty = dirtyBytes();
        ProgressReporter.Progress p = dirty > 0 ? progress.start(ProgressReporter.FLUSH, dirty) : ProgressReporter.Progress.NONE;
        long start = System.nanoTime();
        if (dirty > 0) LOG.info("volume " + volume + ": flushing " + mib(dirty) + " of dirty data");
        if (snapshotRequests != null) snapshotRequests.stop();
        writeBack.stop();
        IOException failure = null;
        try {
            failure = flushForClose(p);
        } finally {
            workers.shutdown();
            try {
                workers.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            format.close(failure == null);
        }
        if (failure != null) {
            // a chunk map left unstored fails the close too, though no chunk was dirty: published all the same
            (p == ProgressReporter.Progress.NONE ? progress.start(ProgressReporter.FLUSH, 0) : p).failed(failure.getMessage());
            throw failure;
        }
        p.done();
        if (dirty > 0) {
            LOG.info("volume " + volume + ": flushed all data (" + mib(dirty) + " in "
                    + (System.nanoTime() - start) / 1_000_000 + " ms)");
        }
    }

    /**
     * Flushes until nothing is dirty; the failure that remains, or null. The store calls were already
     * retried under the store's policy ({@link RetryingStore}), so a failure here is final: no retry on top.
     */
    private IOException flushForClose(ProgressReporter.Progress p) {
        try {
            writeBack.flush(p);
            if (cache.dirty().isEmpty()) return null;
            writeBack.flush(p); // chunks written to while the first pass ran
            return cache.dirty().isEmpty() ? null
                    : new IOException("volume " + volume + ": " + mib(dirtyBytes()) + " still dirty after flushing twice");
        } catch (IOException e) {
            long left = dirtyBytes();
            IOException failure = new IOException("volume " + volume + ": " + (left > 0 ? mib(left) : "its chunk map")
                    + " could not be stored: " + e.getMessage(), e);
            LOG.severe(failure.getMessage());
            return failure;
        }
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
