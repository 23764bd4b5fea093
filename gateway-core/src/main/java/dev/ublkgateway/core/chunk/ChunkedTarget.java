package dev.ublkgateway.core.chunk;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.api.VolumeInfo;
import dev.ublkgateway.core.config.Size;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A volume split into fixed-size chunks, one object per chunk, with a write-back chunk cache.
 *
 * <p>Requests whose chunks are cached complete on the queue thread; the rest (store reads, FLUSH, FUA
 * writes, discards) run on virtual threads and complete through {@link BlockRequest#complete}. Dirty
 * chunks are written back in the background once they have been dirty for a while, or at once under
 * memory pressure, at most {@code writeback-threads} at a time. FLUSH writes back every chunk dirty when
 * it arrived and then the chunk map; FUA writes write back their chunks before completing. All-zero
 * chunks are deleted instead of stored. Each stored chunk is {@code data || generation}, encoded through
 * the codecs; the generation is checked against the chunk map on load, so an older object is refused.
 */
public final class ChunkedTarget implements Target {
    private static final Logger LOG = Logger.getLogger(ChunkedTarget.class.getName());
    private static final long MAP_INDEX = -1, KEY_CHECK_INDEX = -2;
    private static final byte[] KEY_CHECK_PLAIN = "ublk-gateway chunked volume key check v1".getBytes(StandardCharsets.US_ASCII);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Creates one codec for a volume; called once per codec chain (one per concurrent worker). */
    @FunctionalInterface
    public interface CodecFactory {
        ChunkCodec create(VolumeInfo volume) throws IOException;
    }

    private static final class Entry {
        final long index;
        final ReentrantLock lock = new ReentrantLock();   // data, gens, removed
        final ReentrantLock io = new ReentrantLock();     // one store write of this chunk at a time
        final AtomicBoolean queued = new AtomicBoolean();
        byte[] data;                                      // chunkSize + 8 (generation trailer), null until loaded
        long writeGen, storedGen;
        volatile long dirtySince;
        volatile boolean dirty;
        boolean removed;

        Entry(long index) {
            this.index = index;
        }
    }

    private final String volume;
    private final long size;
    private final int chunkSize;
    private final long chunks;
    private final ObjectStore store;
    private final List<CodecFactory> codecFactories;
    private final VolumeInfo info;
    private final ConcurrentLinkedQueue<CodecChain> chains = new ConcurrentLinkedQueue<>();
    private final ChunkMap map;
    private final Lease lease;
    private final LinkedHashMap<Long, Entry> lru = new LinkedHashMap<>(64, 0.75f, true);
    private final AtomicLong used = new AtomicLong();
    private final long capacity;
    private final int readAhead;
    private final long writebackDelayNanos;
    private final Semaphore writebackSlots;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final Set<Long> prefetching = ConcurrentHashMap.newKeySet();
    private final Object mapIo = new Object();
    private final byte[] zeros;
    private final Thread flusher;
    private volatile boolean pressure, closing;
    /** Store requests, for stats and tests. */
    final AtomicLong storeGets = new AtomicLong(), storePuts = new AtomicLong(), storeDeletes = new AtomicLong();

    private ChunkedTarget(DeviceDescriptor d, ChunkedTargetConfig c, ObjectStore store, List<CodecFactory> codecs,
                          VolumeInfo info, ChunkMap map, Lease lease) {
        this.volume = d.name();
        this.size = d.sizeBytes();
        this.chunkSize = (int) c.chunkSize().bytes();
        this.chunks = Math.ceilDiv(size, chunkSize);
        this.store = store;
        this.codecFactories = codecs;
        this.info = info;
        this.map = map;
        this.lease = lease;
        this.capacity = c.cache().bytes();
        this.readAhead = c.readAhead();
        this.writebackDelayNanos = TimeUnit.MILLISECONDS.toNanos(c.writebackDelayMs());
        this.writebackSlots = new Semaphore(c.writebackThreads());
        this.zeros = new byte[chunkSize];
        this.flusher = Thread.ofPlatform().daemon().name("writeback-" + volume).unstarted(this::writebackLoop);
    }

    /**
     * Opens (or, in an empty store, creates) the volume: takes the lease, checks the metadata against
     * the configuration and the key, loads the chunk map.
     */
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

    public static ChunkedTarget open(ChunkedTargetConfig c, DeviceDescriptor d, boolean recovering, ObjectStore store,
                                     List<String> codecNames, List<CodecFactory> codecs) throws IOException {
        String names = String.join(",", codecNames);
        long cs = c.chunkSize().bytes();
        Lease lease = Lease.acquire(store, d.name(), recovering);
        try {
            ChunkMap map = new ChunkMap(chunkCount(d, cs));
            Optional<byte[]> metaBytes = store.get(VolumeMeta.KEY);
            VolumeInfo info;
            CodecChain chain;
            if (metaBytes.isEmpty()) {
                if (store.get(ChunkMap.KEY).isPresent()) {
                    throw new IOException("volume " + d.name() + ": the store holds a chunk map but no metadata object ("
                            + VolumeMeta.KEY + "); it was not created by this gateway or is damaged");
                }
                SecureRandom rnd = new SecureRandom();
                byte[] id = new byte[16], salt = new byte[32];
                rnd.nextBytes(id);
                rnd.nextBytes(salt);
                info = new VolumeInfo(id, salt);
                chain = newChain(codecs, info);
                CodecChain.Bytes check = chain.encode(KEY_CHECK_PLAIN.clone(), KEY_CHECK_PLAIN.length, KEY_CHECK_INDEX);
                VolumeMeta meta = new VolumeMeta(VolumeMeta.FORMAT, d.sizeBytes(), cs, names, id, salt,
                        Arrays.copyOf(check.data(), check.length()));
                byte[] m = meta.toBytes();
                store.put(VolumeMeta.KEY, m, 0, m.length);
                map.fresh();
                LOG.info("volume " + d.name() + ": created (chunk size " + cs + ", codecs [" + names + "])");
            } else {
                VolumeMeta meta = VolumeMeta.parse(metaBytes.get());
                String v = "volume " + d.name() + ": ";
                if (meta.format() != VolumeMeta.FORMAT) {
                    throw new IOException(v + "its metadata format " + meta.format() + " is not supported (this gateway reads format "
                            + VolumeMeta.FORMAT + "); use a gateway version that created it");
                }
                if (meta.chunkSize() != cs) {
                    throw new IOException(v + "it was created with chunk-size " + meta.chunkSize() + " bytes, the configuration says "
                            + cs + "; set chunk-size back (a volume's chunk size cannot change)");
                }
                if (!meta.codecs().equals(names)) {
                    throw new IOException(v + "it was created with codecs [" + meta.codecs() + "], the configuration lists ["
                            + names + "]; list the same codecs in the same order");
                }
                if (meta.size() != d.sizeBytes()) {
                    throw new IOException(v + "it was created with size " + meta.size() + " bytes, the configuration says "
                            + d.sizeBytes() + "; set size back to " + meta.size() + " bytes");
                }
                info = new VolumeInfo(meta.volumeId(), meta.kdfSalt());
                chain = newChain(codecs, info);
                boolean ok;
                try {
                    CodecChain.Bytes plain = chain.decode(meta.keyCheck(), meta.keyCheck().length, KEY_CHECK_INDEX, KEY_CHECK_PLAIN.length);
                    ok = Arrays.equals(plain.data(), 0, plain.length(), KEY_CHECK_PLAIN, 0, KEY_CHECK_PLAIN.length);
                } catch (IOException | RuntimeException e) {
                    ok = false;
                }
                if (!ok) {
                    throw new IOException(v + "the key (or codec settings) does not match the one the volume was created with;"
                            + " use the original key");
                }
                Optional<byte[]> mapBytes = store.get(ChunkMap.KEY);
                if (mapBytes.isPresent()) {
                    CodecChain.Bytes plain;
                    try {
                        plain = chain.decode(mapBytes.get(), mapBytes.get().length, MAP_INDEX, 24 + 8 * map.count());
                    } catch (IOException e) {
                        throw new IOException(v + "its chunk map object cannot be read (" + e.getMessage() + ")");
                    }
                    map.load(plain.data(), plain.length());
                } else {
                    map.fresh();
                }
            }
            ChunkedTarget t = new ChunkedTarget(d, c, store, codecs, info, map, lease);
            t.chains.add(chain);
            t.flusher.start();
            return t;
        } catch (IOException | RuntimeException e) {
            try {
                lease.close();
            } catch (IOException ignored) {
                // the open failed anyway
            }
            throw e;
        }
    }

    private static CodecChain newChain(List<CodecFactory> codecs, VolumeInfo info) throws IOException {
        List<ChunkCodec> list = new ArrayList<>();
        for (CodecFactory f : codecs) list.add(f.create(info));
        return new CodecChain(list);
    }

    private CodecChain borrow() throws IOException {
        CodecChain c = chains.poll();
        return c != null ? c : newChain(codecFactories, info);
    }

    private void release(CodecChain c) {
        chains.add(c);
    }

    private static String key(long index) {
        return "chunks/" + Long.toHexString(index >>> 12) + "/" + Long.toHexString(index);
    }

    /**
     * Writes sit in the chunk cache until FLUSH (see {@link #volatileCache}). Not declared multi-conn safe,
     * as before: kept off until it is shown that a FLUSH on one connection covers writes another one
     * completed while write-back runs.
     */
    @Override
    public Capabilities capabilities() {
        return Target.super.capabilities();
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
        long pos = offset, end = offset + length;
        while (pos < end) {
            long index = pos / chunkSize;
            long to = Math.min(end, (index + 1) * chunkSize);
            // the map is set before an entry is marked clean, so a chunk being written back never looks empty
            boolean hole = map.get(index) == 0;
            if (hole) {
                Entry e = cached(index);
                hole = e == null || !e.dirty;
            }
            if (!sink.extent(to - pos, hole ? ExtentSink.HOLE | ExtentSink.ZERO : 0)) return 0;
            pos = to;
        }
        return 0;
    }

    @Override
    public TargetQueue openQueue(QueueContext q) {
        return new Queue();
    }

    // ---------------------------------------------------------------- queue

    private final class Queue implements TargetQueue {
        private long lastEnd = -1;

        @Override
        public int submit(BlockRequest r) {
            switch (r.op()) {
                case BlockOp.READ -> {
                    boolean sequential = r.offset() == lastEnd;
                    lastEnd = r.offset() + r.length();
                    if (sequential && readAhead > 0) prefetchAfter(lastEnd);
                    if (readInline(r)) return r.length();
                    return async(r, () -> read(r));
                }
                case BlockOp.WRITE -> {
                    if (lease.lost()) return -Errno.EIO;
                    if (!r.fua() && writeInline(r)) return r.length();
                    return async(r, () -> write(r));
                }
                case BlockOp.FLUSH -> {
                    return async(r, ChunkedTarget.this::flush);
                }
                case BlockOp.DISCARD, BlockOp.WRITE_ZEROES -> {
                    if (lease.lost()) return -Errno.EIO;
                    return async(r, () -> discard(r.offset(), r.length()));
                }
                default -> {
                    return -Errno.EOPNOTSUPP;
                }
            }
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

    private Entry cached(long index) {
        synchronized (lru) {
            return lru.get(index);
        }
    }

    private boolean readInline(BlockRequest r) {
        MemorySegment buf = r.buffer();
        long off = r.offset();
        int done = 0, len = r.length();
        while (done < len) {
            long index = (off + done) / chunkSize;
            int pos = (int) ((off + done) % chunkSize);
            int n = Math.min(len - done, chunkSize - pos);
            Entry e = cached(index);
            if (e == null) {
                if (map.get(index) != 0) return false;
                buf.asSlice(done, n).fill((byte) 0);
            } else {
                if (!e.lock.tryLock()) return false;
                try {
                    if (e.removed || e.data == null) return false;
                    MemorySegment.copy(e.data, pos, buf, ValueLayout.JAVA_BYTE, done, n);
                } finally {
                    e.lock.unlock();
                }
            }
            done += n;
        }
        return true;
    }

    private boolean writeInline(BlockRequest r) {
        MemorySegment buf = r.buffer();
        long off = r.offset();
        int done = 0, len = r.length();
        while (done < len) {
            long index = (off + done) / chunkSize;
            int pos = (int) ((off + done) % chunkSize);
            int n = Math.min(len - done, chunkSize - pos);
            Entry e = cached(index);
            if (e == null) {
                // a chunk that needs no load: never written, or entirely overwritten
                if (map.get(index) != 0 && n != chunkSize) return false;
                try {
                    e = acquire(index, false, false);
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
            try {
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, done, e.data, pos, n);
                markDirty(e);
            } finally {
                e.lock.unlock();
            }
            done += n;
        }
        return true;
    }

    private static void markDirty(Entry e) {
        e.writeGen++;
        if (!e.dirty) {
            e.dirtySince = System.nanoTime();
            e.dirty = true;
        }
    }

    // ---------------------------------------------------------------- cache

    /**
     * The chunk's entry, locked and with its data present (loaded from the store when {@code load}), or
     * null when {@code blocking} is false and it cannot be had without waiting.
     */
    private Entry acquire(long index, boolean load, boolean blocking) throws IOException {
        while (true) {
            Entry e;
            synchronized (lru) {
                e = lru.get(index);
                if (e == null) {
                    e = new Entry(index);
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
            byte[] data = new byte[chunkSize + 8];
            if (load) {
                try {
                    loadInto(index, data);
                } catch (IOException | RuntimeException ex) {
                    used.addAndGet(-chunkSize);
                    dropEmpty(e);
                    e.lock.unlock();
                    throw ex;
                }
            }
            e.data = data;
            e.storedGen = e.writeGen;
            return e;
        }
    }

    /** Counts one chunk against the cache, evicting clean chunks; false when none can be evicted and not {@code blocking}. */
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
            Iterator<Entry> it = lru.values().iterator();
            while (it.hasNext()) {
                Entry e = it.next();
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
    private void dropEmpty(Entry e) {
        synchronized (lru) {
            if (lru.get(e.index) == e) lru.remove(e.index);
        }
        e.removed = true;
    }

    private void loadInto(long index, byte[] data) throws IOException {
        long gen = map.get(index);
        if (gen == 0) return;
        storeGets.incrementAndGet();
        Optional<byte[]> obj = store.get(key(index));
        if (obj.isEmpty()) {
            LOG.warning("volume " + volume + ": chunk " + index + " is missing from the store although the chunk map lists it;"
                    + " reading zeros (a write was lost before its flush, or the object was deleted)");
            return;
        }
        byte[] o = obj.get();
        CodecChain c = borrow();
        try {
            CodecChain.Bytes plain;
            try {
                plain = c.decode(o, o.length, index, chunkSize + 8);
            } catch (IOException e) {
                throw new IOException("chunk " + index + " cannot be decoded (" + e.getMessage() + ")");
            }
            if (plain.length() != chunkSize + 8) {
                throw new IOException("chunk " + index + " decodes to " + plain.length() + " bytes, not " + (chunkSize + 8));
            }
            long stored = MemorySegment.ofArray(plain.data()).get(LONG_LE, chunkSize);
            if (stored < gen) {
                throw new IOException("chunk " + index + " is older than the chunk map says (generation " + stored + " < " + gen
                        + "): a replayed or stale object");
            }
            System.arraycopy(plain.data(), 0, data, 0, chunkSize);
        } finally {
            release(c);
        }
    }

    private void prefetchAfter(long end) {
        long first = Math.ceilDiv(end, chunkSize);
        for (long i = first; i < first + readAhead && i < chunks; i++) {
            if (map.get(i) == 0 || cached(i) != null || !prefetching.add(i)) continue;
            long index = i;
            workers.execute(() -> {
                try {
                    Entry e = acquire(index, true, false);
                    if (e != null) e.lock.unlock();
                } catch (IOException e) {
                    // the read itself will report it
                } finally {
                    prefetching.remove(index);
                }
            });
        }
    }

    // ---------------------------------------------------------------- slow paths (virtual threads)

    private int read(BlockRequest r) throws IOException {
        MemorySegment buf = r.buffer();
        long off = r.offset();
        int done = 0, len = r.length();
        while (done < len) {
            long index = (off + done) / chunkSize;
            int pos = (int) ((off + done) % chunkSize);
            int n = Math.min(len - done, chunkSize - pos);
            if (cached(index) == null && map.get(index) == 0) {
                buf.asSlice(done, n).fill((byte) 0);
            } else {
                Entry e = acquire(index, true, true);
                try {
                    MemorySegment.copy(e.data, pos, buf, ValueLayout.JAVA_BYTE, done, n);
                } finally {
                    e.lock.unlock();
                }
            }
            done += n;
        }
        return len;
    }

    private int write(BlockRequest r) throws IOException {
        MemorySegment buf = r.buffer();
        long off = r.offset();
        int done = 0, len = r.length();
        List<Entry> touched = r.fua() ? new ArrayList<>() : null;
        while (done < len) {
            long index = (off + done) / chunkSize;
            int pos = (int) ((off + done) % chunkSize);
            int n = Math.min(len - done, chunkSize - pos);
            Entry e = acquire(index, n != chunkSize, true);
            try {
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, done, e.data, pos, n);
                markDirty(e);
            } finally {
                e.lock.unlock();
            }
            if (touched != null) touched.add(e);
            done += n;
        }
        if (touched != null) {
            for (Entry e : touched) writeBack(e);
            persistMap();
        }
        return len;
    }

    private int discard(long off, int len) throws IOException {
        int done = 0;
        while (done < len) {
            long index = (off + done) / chunkSize;
            int pos = (int) ((off + done) % chunkSize);
            int n = Math.min(len - done, chunkSize - pos);
            if (n == chunkSize) {
                Entry e = cached(index);
                if (e != null) {
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
                        }
                    } finally {
                        e.lock.unlock();
                        e.io.unlock();
                    }
                }
                if (map.get(index) != 0) {
                    storeDeletes.incrementAndGet();
                    store.delete(key(index));
                    map.set(index, 0);
                }
            } else if (cached(index) != null || map.get(index) != 0) {
                Entry e = acquire(index, true, true);
                try {
                    Arrays.fill(e.data, pos, pos + n, (byte) 0);
                    markDirty(e);
                } finally {
                    e.lock.unlock();
                }
            }
            done += n;
        }
        return 0;
    }

    /** Stores the chunk if it is dirty (deletes it if all zero); returns when what was dirty on entry is stored. */
    private void writeBack(Entry e) throws IOException {
        e.io.lock();
        CodecChain chain = null;
        try {
            long gen, storeGen = 0;
            boolean zero;
            CodecChain.Bytes enc = null;
            chain = borrow();
            byte[] frame = chain.frame(chunkSize + 8);
            // copy under the lock, encode outside it: writers to this chunk wait only for the copy
            e.lock.lock();
            try {
                if (e.removed || e.data == null || !e.dirty) return;
                if (lease.lost()) throw new IOException("another gateway took over the volume's lease");
                gen = e.writeGen;
                System.arraycopy(e.data, 0, frame, 0, chunkSize);
            } finally {
                e.lock.unlock();
            }
            zero = Arrays.equals(frame, 0, chunkSize, zeros, 0, chunkSize);
            if (!zero) {
                storeGen = map.next();
                MemorySegment.ofArray(frame).set(LONG_LE, chunkSize, storeGen);
                enc = chain.encode(frame, chunkSize + 8, e.index);
            }
            if (zero) {
                if (map.get(e.index) != 0) {
                    storeDeletes.incrementAndGet();
                    store.delete(key(e.index));
                    map.set(e.index, 0);
                }
            } else {
                storePuts.incrementAndGet();
                store.put(key(e.index), enc.data(), 0, enc.length());
                map.set(e.index, storeGen);
            }
            e.lock.lock();
            try {
                e.storedGen = gen;
                if (e.writeGen == gen) e.dirty = false;
            } finally {
                e.lock.unlock();
            }
        } finally {
            if (chain != null) release(chain);
            e.io.unlock();
        }
    }

    private void persistMap() throws IOException {
        synchronized (mapIo) {
            if (!map.dirty()) return;
            byte[] snap = map.snapshot();
            CodecChain c = borrow();
            try {
                CodecChain.Bytes enc = c.encode(snap, snap.length, MAP_INDEX);
                storePuts.incrementAndGet();
                store.put(ChunkMap.KEY, enc.data(), 0, enc.length());
            } catch (IOException | RuntimeException e) {
                map.markDirty();
                throw e;
            } finally {
                release(c);
            }
        }
    }

    private List<Entry> dirtyEntries() {
        List<Entry> list = new ArrayList<>();
        synchronized (lru) {
            for (Entry e : lru.values()) if (e.dirty) list.add(e);
        }
        return list;
    }

    /** Bytes in chunks not yet stored. */
    public long dirtyBytes() {
        return (long) dirtyEntries().size() * chunkSize;
    }

    /** Writes back every chunk dirty now, then the chunk map: the FLUSH barrier. */
    int flush() throws IOException {
        List<Entry> dirty = dirtyEntries();
        List<Future<?>> done = new ArrayList<>(dirty.size());
        for (Entry e : dirty) {
            done.add(workers.submit(() -> {
                writebackSlots.acquire();
                try {
                    writeBack(e);
                } finally {
                    writebackSlots.release();
                }
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
        persistMap();
        return 0;
    }

    private void writebackLoop() {
        while (!closing) {
            LockSupport.parkNanos(20_000_000);
            long now = System.nanoTime();
            boolean urgent = pressure || used.get() > capacity / 2 && dirtyEntries().size() * (long) chunkSize > capacity / 4;
            pressure = false;
            List<Entry> dirty = dirtyEntries();
            for (Entry e : dirty) {
                if (!urgent && now - e.dirtySince < writebackDelayNanos) continue;
                if (e.io.isLocked() || !e.queued.compareAndSet(false, true)) continue;
                if (!writebackSlots.tryAcquire()) {
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
                        writebackSlots.release();
                    }
                });
            }
        }
    }

    /** Flushes everything (reporting the dirty bytes left every second), releases the lease and the store. */
    @Override
    public void close() throws IOException {
        closing = true;
        flusher.interrupt();
        Thread progress = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                System.err.printf("volume %s: flushing, %.1f MiB dirty left%n", volume, dirtyBytes() / 1048576.0);
            }
        });
        IOException failure = null;
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    flush();
                    if (dirtyEntries().isEmpty()) break;
                } catch (IOException e) {
                    if (attempt >= 5) {
                        failure = new IOException("volume " + volume + ": " + mib(dirtyBytes()) + " could not be stored: " + e.getMessage());
                        LOG.severe(failure.getMessage());
                        break;
                    }
                    LOG.warning("volume " + volume + ": flush failed, retrying: " + e.getMessage());
                    try {
                        Thread.sleep(1000L * attempt);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        } finally {
            progress.interrupt();
            workers.shutdown();
            try {
                workers.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (failure == null) lease.close();
            store.close();
        }
        if (failure != null) throw failure;
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
