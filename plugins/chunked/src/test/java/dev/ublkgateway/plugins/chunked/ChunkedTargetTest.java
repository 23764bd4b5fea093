package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.ProgressReporter;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.plugins.chunked.store.MemoryStore;
import dev.ublkgateway.api.Size;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChunkedTargetTest {
    static final int CHUNK = 64 * 1024;
    static final DeviceDescriptor DEV = new DeviceDescriptor("vol", 64L * CHUNK, 4096, 1, 32, 512 * 1024);
    final Arena arena = Arena.ofShared();
    final List<ChunkedTarget> open = new ArrayList<>();

    @AfterEach
    void tearDown() throws IOException {
        for (ChunkedTarget t : open) t.close();
        arena.close();
    }

    /**
     * A toy codec for tests: XOR with a key byte, CRC32C trailer (a wrong key fails to decode). With an
     * {@code id}, the CRC also covers the id and the chunk's index, as aes-gcm binds the volume's id and the
     * chunk's index into its tag (an object moved to another volume or index fails to decode).
     */
    record XorCodec(byte key, byte[] id) implements ChunkCodec {
        XorCodec(byte key) {
            this(key, null);
        }

        public int maxEncodedLength(int length) { return length + 4; }

        private CRC32C crc(long idx) {
            CRC32C c = new CRC32C();
            if (id != null) {
                c.update(id);
                for (int i = 0; i < 8; i++) c.update((int) (idx >>> (8 * i)));
            }
            return c;
        }

        public int encode(MemorySegment in, MemorySegment out, long idx) {
            CRC32C crc = crc(idx);
            for (long i = 0; i < in.byteSize(); i++) {
                byte b = in.get(ValueLayout.JAVA_BYTE, i);
                crc.update(b);
                out.set(ValueLayout.JAVA_BYTE, i, (byte) (b ^ key));
            }
            out.set(ValueLayout.JAVA_INT_UNALIGNED, in.byteSize(), (int) crc.getValue());
            return (int) in.byteSize() + 4;
        }

        public int decode(MemorySegment in, MemorySegment out, long idx) throws IOException {
            int n = (int) in.byteSize() - 4;
            CRC32C crc = crc(idx);
            for (long i = 0; i < n; i++) {
                byte b = (byte) (in.get(ValueLayout.JAVA_BYTE, i) ^ key);
                crc.update(b);
                out.set(ValueLayout.JAVA_BYTE, i, b);
            }
            if ((int) crc.getValue() != in.get(ValueLayout.JAVA_INT_UNALIGNED, n)) throw new IOException("checksum mismatch");
            return n;
        }
    }

    static ChunkedTargetConfig config(int chunk, long cache) {
        return new ChunkedTargetConfig(Size.of(chunk), Size.of(cache), 4, 0, 4, List.of(), null);
    }

    ChunkedTarget open(MemoryStore store, byte key) throws IOException {
        return open(store, key, config(CHUNK, 16L * CHUNK));
    }

    ChunkedTarget open(MemoryStore store, byte key, ChunkedTargetConfig c) throws IOException {
        ChunkedTarget t = ChunkedTarget.open(c, DEV, false, store, List.of("xor"), List.of(v -> new XorCodec(key)));
        open.add(t);
        return t;
    }

    void close(ChunkedTarget t) throws IOException {
        open.remove(t);
        t.close();
    }

    final class Req implements BlockRequest {
        final int op, flags, length;
        final long offset;
        final MemorySegment buf;
        final CompletableFuture<Integer> done = new CompletableFuture<>();

        Req(int op, int flags, long offset, int length) {
            this.op = op;
            this.flags = flags;
            this.offset = offset;
            this.length = length;
            this.buf = op == BlockOp.READ || op == BlockOp.WRITE ? arena.allocate(length) : MemorySegment.NULL;
        }

        public int op() { return op; }
        public int flags() { return flags; }
        public long offset() { return offset; }
        public int length() { return length; }
        public MemorySegment buffer() { return buf; }
        public int queue() { return 0; }
        public int tag() { return 0; }
        public void complete(int result) { done.complete(result); }

        int run(TargetQueue q) throws Exception {
            int r = q.submit(this);
            return r == TargetQueue.PENDING ? done.get(30, TimeUnit.SECONDS) : r;
        }
    }

    static TargetQueue queue(ChunkedTarget t) {
        return t.openQueue(new QueueContext() {
            public int queueId() { return 0; }
            public int depth() { return 32; }
            public int maxIoBytes() { return 512 * 1024; }
        });
    }

    int write(TargetQueue q, long off, byte[] data, boolean fua) throws Exception {
        Req r = new Req(BlockOp.WRITE, fua ? BlockOp.FLAG_FUA : 0, off, data.length);
        r.buf.copyFrom(MemorySegment.ofArray(data));
        return r.run(q);
    }

    byte[] read(TargetQueue q, long off, int len) throws Exception {
        Req r = new Req(BlockOp.READ, 0, off, len);
        assertEquals(len, r.run(q));
        return r.buf.toArray(ValueLayout.JAVA_BYTE);
    }

    int op(TargetQueue q, int op, long off, int len) throws Exception {
        return new Req(op, 0, off, len).run(q);
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aSizeWithMoreChunksThanTheMapHoldsIsRefusedWithTheFix() throws IOException {
        long huge = Long.MAX_VALUE / 4096 * 4096; // its chunk count once overflowed into a tiny map
        IOException e = assertThrows(IOException.class,
                () -> VolumeFormat.chunkCount(new DeviceDescriptor("big", huge, 4096, 1, 32, 1 << 19), 1 << 20));
        assertEquals("volume big: size 8388608.0 TiB in chunks of 1 MiB is 8796093022208 chunks, more than the 268435447"
                + " a volume can have; use a size of at most 17179868608MiB (with chunk-size 64MiB)", e.getMessage());
        e = assertThrows(IOException.class,
                () -> VolumeFormat.chunkCount(new DeviceDescriptor("big", 1L << 50, 4096, 1, 32, 1 << 19), 1 << 20));
        assertTrue(e.getMessage().endsWith("; use chunk-size 8MiB or more, or a smaller size"), e.getMessage());
        assertEquals(1L << 27, VolumeFormat.chunkCount(new DeviceDescriptor("ok", 1L << 50, 4096, 1, 32, 1 << 19), 8 << 20),
                "the chunk size it suggested is enough");
    }

    /** A stored chunk 2 of {@code a}, and a cold target over it whose write-back waits (only FLUSH stores). */
    TargetQueue storedChunkThenCold(MemoryStore store, byte[] a) throws Exception {
        ChunkedTarget t = open(store, (byte) 1);
        TargetQueue q = queue(t);
        assertEquals(CHUNK, write(q, 2L * CHUNK, a, false));
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        close(t);
        cold = open(store, (byte) 1, new ChunkedTargetConfig(Size.of(CHUNK), Size.of(16L * CHUNK), 4, 600_000, 0, List.of(), null));
        return queue(cold);
    }

    ChunkedTarget cold;

    /** Chunk 2 as stored, read by a new target once the cold one is closed. */
    byte[] storedChunk(MemoryStore store) throws Exception {
        close(cold);
        ChunkedTarget t = open(store, (byte) 1);
        byte[] b = read(queue(t), 2L * CHUNK, CHUNK);
        close(t);
        return b;
    }

    @Test
    void aStoredChunkOverwrittenInPartsIsNotReadFirst() throws Exception {
        MemoryStore store = new MemoryStore();
        TargetQueue q = storedChunkThenCold(store, random(CHUNK, 1));
        byte[] b = random(CHUNK, 2);
        long gets = store.gets.get();
        for (int off = 0; off < CHUNK; off += CHUNK / 4) { // as a client writes a chunk in smaller requests
            assertEquals(CHUNK / 4, write(q, 2L * CHUNK + off, Arrays.copyOfRange(b, off, off + CHUNK / 4), false));
        }
        assertArrayEquals(b, read(q, 2L * CHUNK, CHUNK));
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        assertEquals(gets, store.gets.get(), "no read-modify-write GET for a chunk overwritten entirely");
        assertArrayEquals(b, storedChunk(store));
    }

    @Test
    void aStoredChunkOverwrittenInPartIsMergedWhenReadOrStored() throws Exception {
        byte[] a = random(CHUNK, 1), b = random(CHUNK / 4, 2), c = random(100, 3);
        byte[] expect = a.clone();
        System.arraycopy(b, 0, expect, CHUNK / 4, b.length);

        MemoryStore store = new MemoryStore(); // read before it is complete: loaded once, the new bytes kept
        TargetQueue q = storedChunkThenCold(store, a);
        long gets = store.gets.get();
        assertEquals(b.length, write(q, 2L * CHUNK + CHUNK / 4, b, false));
        assertEquals(gets, store.gets.get(), "not read at the write");
        assertArrayEquals(expect, read(q, 2L * CHUNK, CHUNK));
        assertEquals(gets + 1, store.gets.get());
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        assertArrayEquals(expect, storedChunk(store));

        store = new MemoryStore(); // stored before it is complete (FLUSH): merged first
        q = storedChunkThenCold(store, a);
        assertEquals(b.length, write(q, 2L * CHUNK + CHUNK / 4, b, false));
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        assertArrayEquals(expect, storedChunk(store));

        store = new MemoryStore(); // then a write into part of a piece not loaded: loaded first, nothing lost
        q = storedChunkThenCold(store, a);
        assertEquals(b.length, write(q, 2L * CHUNK + CHUNK / 4, b, false));
        assertEquals(c.length, write(q, 2L * CHUNK + 1000, c, false));
        System.arraycopy(c, 0, expect, 1000, c.length);
        assertArrayEquals(expect, read(q, 2L * CHUNK, CHUNK));
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        assertArrayEquals(expect, storedChunk(store));
    }

    @Test
    void readAheadGrowsAlongASequentialRunAndStartsSmallAgainAfterASeek() throws Exception {
        MemoryStore store = new MemoryStore();
        ChunkedTarget t = open(store, (byte) 1, config(CHUNK, 64L * CHUNK));
        TargetQueue q = queue(t);
        byte[] all = random(64 * CHUNK, 7);
        for (int c = 0; c < 64; c += 8) {
            assertEquals(8 * CHUNK, write(q, (long) c * CHUNK, Arrays.copyOfRange(all, c * CHUNK, (c + 8) * CHUNK), false));
        }
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        close(t);

        // read-ahead 4, a cache of 64 chunks: the window grows from 4 to 16 (a quarter of the cache)
        ReadAhead ra = new ReadAhead(CHUNK, 64, 4, new ChunkCache(CHUNK, 64L * CHUNK, null), null, null);
        assertEquals(4, ra.window(0));
        assertEquals(7, ra.window(3L * CHUNK + 100));
        assertEquals(16, ra.window(40L * CHUNK));
        assertEquals(32, new ReadAhead(CHUNK, 64, 4, new ChunkCache(CHUNK, 1024L * CHUNK, null), null, null).window(1L << 40),
                "at most 8 times read-ahead");

        t = open(store, (byte) 1, config(CHUNK, 64L * CHUNK));
        q = queue(t);
        long opened = store.gets.get();
        for (int c = 0; c < 12; c++) assertArrayEquals(Arrays.copyOfRange(all, c * CHUNK, (c + 1) * CHUNK), read(q, (long) c * CHUNK, CHUNK));
        // after 12 chunks read in order, 16 beyond them are on their way: chunk 27 is loaded without a read
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (store.gets.get() < opened + 28 && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(opened + 28, store.gets.get(), "chunks 0 to 27 loaded");
        long gets = store.gets.get();
        assertArrayEquals(Arrays.copyOfRange(all, 27 * CHUNK, 28 * CHUNK), read(q, 27L * CHUNK, CHUNK));
        assertEquals(gets, store.gets.get(), "chunk 27 came from the read-ahead");
        // a seek: the next run starts with the window of 4 again
        assertArrayEquals(Arrays.copyOfRange(all, 50 * CHUNK, 51 * CHUNK), read(q, 50L * CHUNK, CHUNK));
        assertArrayEquals(Arrays.copyOfRange(all, 51 * CHUNK, 52 * CHUNK), read(q, 51L * CHUNK, CHUNK));
        Thread.sleep(200);
        assertTrue(t.cachedChunk(57) != null && t.cachedChunk(58) == null, "a run of two chunks: a window of 4 + 2, 52 to 57");
    }

    @Test
    void aSequentialWritersChunksAreStoredOnceItHasGonePastThemWithoutTheDelay() throws Exception {
        MemoryStore store = new MemoryStore();
        // a write-back delay of 10 minutes: only chunks a sequential writer went past are stored early
        ChunkedTarget t = open(store, (byte) 1, new ChunkedTargetConfig(Size.of(CHUNK), Size.of(32L * CHUNK), 4, 600_000, 4,
                List.of(), null));
        TargetQueue q = queue(t);
        byte[] b = random(4 * CHUNK, 5);
        long puts = store.puts.get();
        for (int off = 0; off < 3 * CHUNK + CHUNK / 2; off += CHUNK / 4) { // chunks 0 to 2, half of 3
            assertEquals(CHUNK / 4, write(q, 10L * CHUNK + off, Arrays.copyOfRange(b, off, off + CHUNK / 4), false));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (store.puts.get() < puts + 3 && System.nanoTime() < deadline) Thread.sleep(5);
        Thread.sleep(100);
        assertEquals(puts + 3, store.puts.get(), "chunks 10 to 12 stored, 13 (being written) not");
        assertFalse(t.cachedChunk(10).dirty);
        assertTrue(t.cachedChunk(13).dirty);
        // random writes (not sequential) wait for the delay, even into a whole chunk
        assertEquals(CHUNK, write(q, 20L * CHUNK, Arrays.copyOf(b, CHUNK), false));
        assertEquals(CHUNK, write(q, 2L * CHUNK, Arrays.copyOf(b, CHUNK), false));
        Thread.sleep(100);
        assertEquals(puts + 3, store.puts.get());
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        close(t);
        t = open(store, (byte) 1);
        assertArrayEquals(Arrays.copyOf(b, 3 * CHUNK + CHUNK / 2), read(queue(t), 10L * CHUNK, 3 * CHUNK + CHUNK / 2));
    }

    @Test
    void unwrittenChunksReadAsZerosWithoutStoreRequests() throws Exception {
        MemoryStore store = new MemoryStore();
        TargetQueue q = queue(open(store, (byte) 1));
        long gets = store.gets.get();
        assertArrayEquals(new byte[3 * CHUNK], read(q, 5L * CHUNK, 3 * CHUNK));
        assertEquals(gets, store.gets.get());
    }

    @Test
    void dataSurvivesFlushAndReopenAcrossChunkBoundaries() throws Exception {
        MemoryStore store = new MemoryStore();
        ChunkedTarget t = open(store, (byte) 1);
        TargetQueue q = queue(t);
        byte[] a = random(3 * CHUNK + 1000, 1);
        assertEquals(a.length, write(q, CHUNK - 4096, a, false));
        byte[] b = random(4096, 2);
        assertEquals(4096, write(q, 10L * CHUNK + 8192, b, false)); // partial write of a fresh chunk
        assertArrayEquals(a, read(q, CHUNK - 4096, a.length));
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        assertTrue(Chunks.indexes(store.keys()).contains("chunks/0/1"), store.keys().toString());
        close(t);
        assertFalse(store.keys().contains(Lease.KEY), "lease released at close");

        ChunkedTarget t2 = open(store, (byte) 1);
        TargetQueue q2 = queue(t2);
        assertArrayEquals(a, read(q2, CHUNK - 4096, a.length));
        assertArrayEquals(b, read(q2, 10L * CHUNK + 8192, 4096));
        assertArrayEquals(new byte[8192], read(q2, 10L * CHUNK, 8192));
        // read-modify-write of a stored chunk that is no longer cached
        byte[] c = random(512, 3);
        write(q2, CHUNK + 100 * 512, c, true);
        close(t2);
        TargetQueue q3 = queue(open(store, (byte) 1));
        byte[] expect = a.clone();
        System.arraycopy(c, 0, expect, 4096 + 100 * 512, 512);
        assertArrayEquals(expect, read(q3, CHUNK - 4096, a.length));
    }

    ChunkedTarget openSized(MemoryStore store, long size) throws IOException {
        DeviceDescriptor d = new DeviceDescriptor(DEV.name(), size, 4096, 1, 32, 512 * 1024);
        ChunkedTarget t = ChunkedTarget.open(config(CHUNK, 16L * CHUNK), d, false, store, List.of("xor"),
                List.of(v -> new XorCodec((byte) 1)));
        open.add(t);
        return t;
    }

    @Test
    void aGrownVolumeServesTheNewRangeAndKeepsItsSizeAcrossAReopen() throws Exception {
        MemoryStore store = new MemoryStore();
        ChunkedTarget t = open(store, (byte) 1);
        TargetQueue q = queue(t);
        byte[] a = random(CHUNK, 1);
        assertEquals(CHUNK, write(q, DEV.sizeBytes() - CHUNK, a, false));
        long grown = 3 * DEV.sizeBytes() + 4096; // not a whole number of chunks: the last one is partial
        t.resize(grown, false);
        // durable at once: the metadata and the map in the store say so before any flush
        assertTrue(new String(store.get(VolumeMeta.KEY).orElseThrow()).contains("size=" + grown + "\n"));
        assertArrayEquals(new byte[8192], read(q, 2 * DEV.sizeBytes(), 8192), "the new range reads as zeros");
        byte[] b = random(2 * CHUNK, 2);
        assertEquals(b.length, write(q, grown - 4096 - 2 * CHUNK, b, false));
        assertEquals(4096, write(q, grown - 4096, random(4096, 3), true));
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        IOException shrink = assertThrows(IOException.class, () -> t.resize(DEV.sizeBytes(), true));
        assertTrue(shrink.getMessage().contains("a chunked volume cannot shrink"), shrink.getMessage());
        close(t);

        IOException old = assertThrows(IOException.class, () -> open(store, (byte) 1));
        assertEquals("volume vol: its size is " + grown + " bytes (as created or last resized), the configuration says "
                + DEV.sizeBytes() + "; set size to " + grown + " bytes", old.getMessage());
        TargetQueue q2 = queue(openSized(store, grown));
        assertArrayEquals(a, read(q2, DEV.sizeBytes() - CHUNK, CHUNK));
        assertArrayEquals(b, read(q2, grown - 4096 - 2 * CHUNK, b.length));
        assertArrayEquals(random(4096, 3), read(q2, grown - 4096, 4096));
    }

    @Test
    void aVolumeStoppedBetweenItsNewMetadataAndItsNewMapOpensWithTheRestUnwritten() throws Exception {
        MemoryStore store = new MemoryStore();
        ChunkedTarget t = open(store, (byte) 1);
        byte[] a = random(4096, 4);
        assertEquals(4096, write(queue(t), 4096, a, true));
        close(t);
        // what a grow leaves when the gateway dies after storing the metadata, before the map
        VolumeMeta m = VolumeMeta.parse(store.get(VolumeMeta.KEY).orElseThrow());
        long grown = 2 * DEV.sizeBytes();
        store.poke(VolumeMeta.KEY, new VolumeMeta(m.format(), grown, m.chunkSize(), m.codecs(), m.volumeId(), m.kdfSalt(),
                m.keyCheck(), m.created()).toBytes());
        ChunkedTarget t2 = openSized(store, grown);
        TargetQueue q2 = queue(t2);
        assertArrayEquals(a, read(q2, 4096, 4096));
        assertArrayEquals(new byte[4096], read(q2, grown - 4096, 4096));
        byte[] b = random(4096, 5);
        assertEquals(4096, write(q2, grown - 4096, b, true));
        close(t2);
        assertArrayEquals(b, read(queue(openSized(store, grown)), grown - 4096, 4096));
    }

    @Test
    void fuaWriteIsStoredBeforeItCompletes() throws Exception {
        MemoryStore store = new MemoryStore();
        TargetQueue q = queue(open(store, (byte) 1, new ChunkedTargetConfig(Size.of(CHUNK), Size.of(16L * CHUNK), 4, 600_000, 0, List.of(), null)));
        write(q, 3L * CHUNK, random(4096, 5), false);
        assertFalse(Chunks.indexes(store.keys()).contains("chunks/0/3"), "a plain write stays cached (long writeback delay)");
        write(q, 2L * CHUNK, random(4096, 6), true);
        assertTrue(Chunks.indexes(store.keys()).contains("chunks/0/2"));
        assertTrue(store.keys().contains(ChunkMap.KEY));
    }

    /** Extents as length, flags, length, flags..., neighbours with equal flags merged. */
    static List<Long> extents(ChunkedTarget t, long offset, long length) {
        List<Long> l = new ArrayList<>();
        assertEquals(0, t.extents(offset, length, (len, flags) -> {
            int n = l.size();
            if (n > 0 && l.get(n - 1) == flags) l.set(n - 2, l.get(n - 2) + len);
            else {
                l.add(len);
                l.add((long) flags);
            }
            return true;
        }));
        return l;
    }

    @Test
    void holesAreChunksWithoutAStoredObjectOrUnstoredWrites() throws Exception {
        MemoryStore store = new MemoryStore();
        ChunkedTarget t = open(store, (byte) 1);
        TargetQueue q = queue(t);
        long hz = ExtentSink.HOLE | ExtentSink.ZERO, size = 64L * CHUNK;
        assertEquals(List.of(size, hz), extents(t, 0, size));
        write(q, 2L * CHUNK + 4096, random(4096, 3), false);  // dirty in the cache, not stored yet: data
        assertEquals(List.of(2L * CHUNK, hz, (long) CHUNK, 0L, 61L * CHUNK, hz), extents(t, 0, size));
        op(q, BlockOp.FLUSH, 0, 0);                           // stored: still data
        assertEquals(List.of(2L * CHUNK, hz, (long) CHUNK, 0L, 61L * CHUNK, hz), extents(t, 0, size));
        assertEquals(List.of(4096L, 0L), extents(t, 2L * CHUNK + 8192, 4096), "a range inside a chunk");
        assertEquals(0, op(q, BlockOp.DISCARD, 2L * CHUNK, CHUNK)); // deleted: a hole again
        assertEquals(List.of(size, hz), extents(t, 0, size));
        long gets = store.gets.get();
        extents(t, 0, size);
        assertEquals(gets, store.gets.get(), "answered without the store");
    }

    /** Records what a target publishes: each operation's start, the bytes left after every report, its end. */
    static final class Recorder implements ProgressReporter {
        final List<String> events = new ArrayList<>();

        public synchronized Progress start(String operation, long totalBytes) {
            events.add("start " + operation + " " + totalBytes);
            long[] totalDone = {totalBytes, 0};
            return new Progress() {
                public void advance(long bytes) {
                    synchronized (Recorder.this) {
                        totalDone[1] += bytes;
                        totalDone[0] = Math.max(totalDone[0], totalDone[1]);
                        events.add("left " + (totalDone[0] - totalDone[1]));
                    }
                }
                public void total(long bytes) {
                    synchronized (Recorder.this) {
                        totalDone[0] = Math.max(bytes, totalDone[1]);
                        events.add("left " + (totalDone[0] - totalDone[1]));
                    }
                }
                public void done() {
                    synchronized (Recorder.this) { events.add("done " + operation); }
                }
                public void failed(String message) {
                    synchronized (Recorder.this) { events.add("failed " + operation + ": " + message); }
                }
            };
        }

        synchronized List<String> events() {
            return List.copyOf(events);
        }
    }

    @Test
    void theFlushAtClosePublishesBytesLeftFallingToDone() throws Exception {
        MemoryStore store = new MemoryStore();
        Recorder progress = new Recorder();
        // a long write-back delay and a large cache: the 12 chunks are still dirty at close
        ChunkedTargetConfig c = new ChunkedTargetConfig(Size.of(CHUNK), Size.of(64L * CHUNK), 4, 600_000, 4, List.of(), null);
        ChunkedTarget t = ChunkedTarget.open(c, DEV, false, false, store, List.of("xor"), List.of(v -> new XorCodec((byte) 1)),
                progress);
        write(queue(t), 0, random(12 * CHUNK, 9), false);
        assertEquals(12L * CHUNK, t.dirtyBytes());
        t.close();
        List<String> ev = progress.events();
        assertEquals("start flush " + 12L * CHUNK, ev.getFirst());
        assertEquals("done flush", ev.getLast());
        List<Long> left = ev.stream().filter(e -> e.startsWith("left ")).map(e -> Long.parseLong(e.substring(5))).toList();
        assertEquals(12, left.size(), "one report per chunk stored: " + ev);
        for (int i = 1; i < left.size(); i++) assertTrue(left.get(i) < left.get(i - 1), "bytes left fall: " + left);
        assertEquals(0L, left.getLast());
        assertEquals(12, store.keys().stream().filter(k -> k.startsWith("chunks/")).count());
    }

    @Test
    void aFailedFlushAtCloseIsPublishedWithWhatWasNotStored() throws Exception {
        MemoryStore store = new MemoryStore();
        Recorder progress = new Recorder();
        java.util.concurrent.atomic.AtomicBoolean broken = new java.util.concurrent.atomic.AtomicBoolean();
        ChunkedTargetConfig c = new ChunkedTargetConfig(Size.of(CHUNK), Size.of(64L * CHUNK), 4, 600_000, 4, List.of(), null);
        ChunkedTarget t = ChunkedTarget.open(c, DEV, false, false, store, List.of("xor"),
                List.of(v -> failingEncoder(broken)), progress);
        write(queue(t), 0, random(2 * CHUNK, 9), false);
        broken.set(true);
        assertThrows(Exception.class, t::close);
        String last = progress.events().getLast();
        assertTrue(last.startsWith("failed flush: volume vol: ") && last.contains("could not be stored"), last);
    }

    @Test
    void aFlushOfMuchDirtyDataPublishesACacheDrainASmallOneDoesNot() throws Exception {
        MemoryStore store = new MemoryStore();
        Recorder progress = new Recorder();
        int chunks = (int) (WriteBack.DRAIN_REPORT_BYTES / CHUNK);
        DeviceDescriptor big = new DeviceDescriptor("vol", 4L * chunks * CHUNK, 4096, 1, 32, 512 * 1024);
        ChunkedTargetConfig c = new ChunkedTargetConfig(Size.of(CHUNK), Size.of(4L * chunks * CHUNK), 4, 600_000, 4, List.of(), null);
        ChunkedTarget t = ChunkedTarget.open(c, big, false, false, store, List.of("xor"), List.of(v -> new XorCodec((byte) 1)),
                progress);
        open.add(t);
        TargetQueue q = queue(t);
        write(q, 0, random(CHUNK, 3), false);
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        assertEquals(List.of(), progress.events(), "one chunk is not a long operation");
        byte[] part = random(512 * 1024, 4);
        // written backwards: a sequential writer's chunks would be stored before the FLUSH
        for (long off = (long) chunks * CHUNK - part.length; off >= 0; off -= part.length) write(q, off, part, false);
        assertEquals(0, op(q, BlockOp.FLUSH, 0, 0));
        List<String> ev = progress.events();
        assertEquals("start cache-drain " + (long) chunks * CHUNK, ev.getFirst());
        assertEquals("left 0", ev.get(ev.size() - 2));
        assertEquals("done cache-drain", ev.getLast());
        assertEquals(chunks + 2, ev.size(), "one report per chunk stored");
    }

    /** The XOR codec, whose encoding fails once {@code broken}: no chunk can be stored. */
    static ChunkCodec failingEncoder(java.util.concurrent.atomic.AtomicBoolean broken) {
        XorCodec xor = new XorCodec((byte) 1);
        return new ChunkCodec() {
            public int maxEncodedLength(int length) { return xor.maxEncodedLength(length); }
            public int encode(MemorySegment in, MemorySegment out, long idx) throws IOException {
                if (broken.get()) throw new IOException("store is gone");
                return xor.encode(in, out, idx);
            }
            public int decode(MemorySegment in, MemorySegment out, long idx) throws IOException {
                return xor.decode(in, out, idx);
            }
        };
    }

    @Test
    void aDiscardOfManyChunksPublishesItsProgressSmallOnesDoNot() throws Exception {
        MemoryStore store = new MemoryStore();
        Recorder progress = new Recorder();
        ChunkedTarget t = ChunkedTarget.open(config(CHUNK, 16L * CHUNK), DEV, false, false, store, List.of("xor"),
                List.of(v -> new XorCodec((byte) 1)), progress);
        open.add(t);
        TargetQueue q = queue(t);
        assertEquals(0, op(q, BlockOp.DISCARD, 0, CHUNK));
        assertEquals(List.of(), progress.events(), "one chunk is not a long operation");
        int all = ChunkedTarget.DISCARD_REPORT_CHUNKS * CHUNK;
        assertEquals(0, op(q, BlockOp.DISCARD, 0, all));
        List<String> ev = progress.events();
        assertEquals("start discard " + all, ev.getFirst());
        assertEquals("left 0", ev.get(ev.size() - 2));
        assertEquals("done discard", ev.getLast());
    }

    @Test
    void zeroChunksAreDeletedAndDiscardWorks() throws Exception {
        MemoryStore store = new MemoryStore();
        TargetQueue q = queue(open(store, (byte) 1));
        write(q, 0, random(4 * CHUNK, 7), false);
        op(q, BlockOp.FLUSH, 0, 0);
        assertTrue(Chunks.indexes(store.keys()).containsAll(List.of("chunks/0/0", "chunks/0/1", "chunks/0/2", "chunks/0/3")));
        write(q, 0, new byte[CHUNK], false);                  // all zero: deleted, not stored
        assertEquals(0, op(q, BlockOp.DISCARD, CHUNK, CHUNK)); // whole chunk: deleted
        assertEquals(0, op(q, BlockOp.WRITE_ZEROES, 2L * CHUNK + 4096, 8192)); // part: zeroed
        op(q, BlockOp.FLUSH, 0, 0);
        // the replaced objects go in the background, once the stored map no longer lists them
        long until = System.nanoTime() + 10_000_000_000L;
        while (Chunks.indexes(store.keys()).stream().anyMatch(k -> k.equals("chunks/0/0") || k.equals("chunks/0/1"))
                && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertFalse(Chunks.indexes(store.keys()).contains("chunks/0/0"));
        assertFalse(Chunks.indexes(store.keys()).contains("chunks/0/1"));
        assertTrue(Chunks.indexes(store.keys()).contains("chunks/0/2"));
        long gets = store.gets.get();
        assertArrayEquals(new byte[2 * CHUNK], read(q, 0, 2 * CHUNK));
        assertEquals(gets, store.gets.get());
        assertArrayEquals(new byte[8192], read(q, 2L * CHUNK + 4096, 8192));
    }

    @Test
    void cacheStaysBoundedAndEvictsCleanChunks() throws Exception {
        MemoryStore store = new MemoryStore();
        ChunkedTarget t = open(store, (byte) 1, config(CHUNK, 8L * CHUNK));
        TargetQueue q = queue(t);
        byte[] all = random(40 * CHUNK, 8);
        for (int i = 0; i < 40; i++) {
            byte[] part = java.util.Arrays.copyOfRange(all, i * CHUNK, (i + 1) * CHUNK);
            write(q, (long) i * CHUNK, part, false);
        }
        assertTrue(t.dirtyBytes() <= 8L * CHUNK + 4L * CHUNK, "dirty " + t.dirtyBytes());
        assertArrayEquals(all, read(q, 0, 40 * CHUNK));
    }

    @Test
    void wrongKeyChunkSizeAndSecondGatewayAreRefused() throws Exception {
        MemoryStore store = new MemoryStore();
        open(store, (byte) 1);
        IOException busy = assertThrows(IOException.class, () -> open(store, (byte) 1));
        assertTrue(busy.getMessage().contains("in use by gateway"), busy.getMessage());
        close(open.getFirst());
        IOException key = assertThrows(IOException.class, () -> open(store, (byte) 2));
        assertTrue(key.getMessage().contains("key"), key.getMessage());
        IOException size = assertThrows(IOException.class, () -> open(store, (byte) 1, config(2 * CHUNK, 16L * CHUNK)));
        assertTrue(size.getMessage().contains("chunk-size"), size.getMessage());
        assertFalse(store.keys().contains(Lease.KEY), "a refused open leaves no lease");
    }

    @Test
    void replayedOrTamperedChunkIsAnIoError() throws Exception {
        MemoryStore store = new MemoryStore();
        ChunkedTarget t = open(store, (byte) 1);
        TargetQueue q = queue(t);
        write(q, 0, random(CHUNK, 9), false);
        op(q, BlockOp.FLUSH, 0, 0);
        String oldKey = Chunks.key(store.keys(), 0);
        byte[] old = store.get(oldKey).orElseThrow();
        write(q, 0, random(CHUNK, 10), false);
        write(q, CHUNK, random(CHUNK, 11), false);
        op(q, BlockOp.FLUSH, 0, 0);
        close(t);
        store.poke(Chunks.key(store.keys(), 0), old);       // replay an older version under the new name
        String one = Chunks.key(store.keys(), 1);
        byte[] tampered = store.get(one).orElseThrow();
        tampered[100] ^= 1;
        store.poke(one, tampered);
        TargetQueue q2 = queue(open(store, (byte) 1));
        assertEquals(-5, new Req(BlockOp.READ, 0, 0, 4096).run(q2));
        assertEquals(-5, new Req(BlockOp.READ, 0, CHUNK, 4096).run(q2));
        assertArrayEquals(new byte[4096], read(q2, 5L * CHUNK, 4096));
    }
}
