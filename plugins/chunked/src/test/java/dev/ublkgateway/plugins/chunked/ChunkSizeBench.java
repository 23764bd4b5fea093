package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.plugins.chunked.store.DirectoryStore;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Chunk size trade-off of the chunked target: sequential 128 KiB writes then FLUSH, a cold sequential
 * read, and 4 KiB random writes with a FLUSH every 8 MiB, each with the requests and bytes sent to the
 * store. {@code main} runs it on the directory store (fsync per object); the s3 plugin's
 * {@code S3VolumeBench} on S3Proxy. Run: java -cp TEST_CLASSPATH dev.ublkgateway.plugins.chunked.ChunkSizeBench DIR
 */
public final class ChunkSizeBench {
    private ChunkSizeBench() {
    }

    public static final long VOLUME = 512L << 20;

    static final class Counting implements ObjectStore {
        final ObjectStore inner;
        final AtomicLong puts = new AtomicLong(), gets = new AtomicLong(), deletes = new AtomicLong(), bytes = new AtomicLong();

        long requests() {
            return gets.get() + puts.get() + deletes.get();
        }

        Counting(ObjectStore inner) {
            this.inner = inner;
        }

        public Optional<byte[]> get(String key) throws IOException {
            gets.incrementAndGet();
            return inner.get(key);
        }

        public void put(String key, byte[] data, int offset, int length) throws IOException {
            puts.incrementAndGet();
            bytes.addAndGet(length);
            inner.put(key, data, offset, length);
        }

        public void delete(String key) throws IOException {
            deletes.incrementAndGet();
            inner.delete(key);
        }

        public void close() throws IOException {
            inner.close();
        }
    }

    record Req(int op, long offset, int length, MemorySegment buffer, CompletableFuture<Integer> done) implements BlockRequest {
        public int flags() { return 0; }
        public int queue() { return 0; }
        public int tag() { return 0; }
        public void complete(int result) { done.complete(result); }
    }

    static int run(TargetQueue q, int op, long off, int len, MemorySegment buf) throws Exception {
        Req r = new Req(op, off, len, len == 0 ? MemorySegment.NULL : buf.asSlice(0, len), new CompletableFuture<>());
        int res = q.submit(r);
        if (res == TargetQueue.PENDING) res = r.done().get();
        if (res < 0) throw new IOException(BlockOp.name(op) + " failed: " + res);
        return res;
    }

    /** Opens the store a chunk size is measured on (a fresh, empty one per chunk size and run). */
    @FunctionalInterface
    public interface StoreFactory {
        ObjectStore open(int chunkSize, boolean fresh) throws IOException;
    }

    public static void main(String[] args) throws Exception {
        Path base = Path.of(args.length > 0 ? args[0] : "/var/tmp/chunkbench");
        measure("directory store (fsync per object)", (chunk, fresh) -> {
            Path dir = base.resolve("c" + chunk);
            if (fresh) deleteTree(dir);
            return new DirectoryStore(dir, true);
        }, List.of(), List.of(), VOLUME);
    }

    /**
     * For chunk sizes 256 KiB, 1 MiB and 4 MiB: 128 KiB sequential writes then FLUSH, a cold sequential
     * read (a new target over the same store), and 4 KiB random writes with a FLUSH every 8 MiB; MB/s,
     * IOPS, and store requests per GiB moved. Prints one table row per chunk size.
     */
    public static void measure(String what, StoreFactory stores, List<String> codecNames,
                               List<ChunkedTarget.CodecFactory> codecs, long volume) throws Exception {
        DeviceDescriptor d = new DeviceDescriptor("bench", volume, 4096, 1, 64, 512 << 10);
        QueueContext qc = new QueueContext() {
            public int queueId() { return 0; }
            public int depth() { return 64; }
            public int maxIoBytes() { return 512 << 10; }
        };
        MemorySegment buf = Arena.global().allocate(512 << 10);
        byte[] rnd = new byte[512 << 10];
        new Random(1).nextBytes(rnd);
        buf.copyFrom(MemorySegment.ofArray(rnd));
        System.out.println(what + ", " + (volume >> 20) + " MiB volume" + (codecNames.isEmpty() ? "" : ", codecs " + codecNames));
        System.out.println("| chunk | seq write + flush MB/s | requests/GiB | cold seq read MB/s | requests/GiB | 4k random write IOPS (flush every 8 MiB) | requests/GiB written | stored MiB per MiB written |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        double gib = volume / (double) (1L << 30);
        for (int chunk : new int[] {256 << 10, 1 << 20, 4 << 20}) {
            ChunkedTargetConfig c = new ChunkedTargetConfig(Size.of(chunk), Size.of(256L << 20), 8, 500, 4, List.of(), null);
            Counting store = new Counting(stores.open(chunk, true));
            ChunkedTarget t = ChunkedTarget.open(c, d, false, store, codecNames, codecs);
            TargetQueue q = t.openQueue(qc);
            long r0 = store.requests();
            long t0 = System.nanoTime();
            for (long off = 0; off < volume; off += 128 << 10) run(q, BlockOp.WRITE, off, 128 << 10, buf);
            run(q, BlockOp.FLUSH, 0, 0, buf);
            double seqW = volume / 1e6 / ((System.nanoTime() - t0) / 1e9);
            double seqWReq = (store.requests() - r0) / gib;
            t.close();
            store = new Counting(stores.open(chunk, false));
            t = ChunkedTarget.open(c, d, false, store, codecNames, codecs);
            q = t.openQueue(qc);
            r0 = store.requests();
            t0 = System.nanoTime();
            for (long off = 0; off < volume; off += 128 << 10) run(q, BlockOp.READ, off, 128 << 10, buf);
            double seqR = volume / 1e6 / ((System.nanoTime() - t0) / 1e9);
            double seqRReq = (store.requests() - r0) / gib;
            long putBytes0 = store.bytes.get();
            r0 = store.requests();
            Random r = new Random(2);
            int n = 8192;
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                run(q, BlockOp.WRITE, (r.nextLong(volume / 4096)) * 4096, 4096, buf);
                if ((i + 1) % 2048 == 0) run(q, BlockOp.FLUSH, 0, 0, buf);
            }
            double iops = n / ((System.nanoTime() - t0) / 1e9);
            double randReq = (store.requests() - r0) / (n * 4096.0 / (1L << 30));
            double amp = (store.bytes.get() - putBytes0) / (double) (n * 4096L);
            t.close();
            System.out.printf("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f |%n",
                    Size.of(chunk), seqW, seqWReq, seqR, seqRReq, iops, randReq, amp);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
