package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.MetricsSource;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.RetryPolicy;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.TargetQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** What a chunked volume reports to the metrics endpoint: its cache, write-back, store calls, lease and codecs. */
class ChunkedMetricsTest {
    static final int CHUNK = ChunkedTargetTest.CHUNK;
    final ChunkedTargetTest io = new ChunkedTargetTest();

    @AfterEach
    void tearDown() throws IOException {
        io.tearDown();
    }

    /** A store spec of type {@code type}, as the YAML's {@code store:} binds it. */
    static NestedSpec store(String type) {
        return new NestedSpec() {
            public String kind() { return "store"; }
            public String type() { return type; }
            public Record config() { return null; }
            public int line() { return 1; }
            public int column() { return 1; }
        };
    }

    /** No background write-back (a long delay), so only FLUSH stores chunks. */
    static ChunkedTargetConfig lazy(String storeType) {
        return new ChunkedTargetConfig(Size.of(CHUNK), Size.of(16L * CHUNK), 4, 600_000, 0, List.of(), store(storeType));
    }

    static RecordingSink scrape(MetricsSource s) {
        RecordingSink sink = new RecordingSink();
        s.reportMetrics(sink);
        return sink;
    }

    ChunkedTarget open(StoreRetryTest.FlakyStore store, List<String> names, List<ChunkedTarget.CodecFactory> codecs)
            throws IOException {
        ChunkedTarget t = ChunkedTarget.open(lazy("memory"), ChunkedTargetTest.DEV, false, store, names, codecs);
        io.open.add(t);
        return t;
    }

    @Test
    void cacheBytesMoveFromDirtyToCleanWhenFlushed() throws Exception {
        StoreRetryTest.FlakyStore store = new StoreRetryTest.FlakyStore();
        ChunkedTarget t = open(store, List.of(), List.of());
        TargetQueue q = ChunkedTargetTest.queue(t);
        RecordingSink before = scrape(t);
        assertEquals(16.0 * CHUNK, before.get("chunked_cache_capacity_bytes{}"));
        assertEquals(0, before.get("chunked_cache_dirty_bytes{}"));
        assertEquals(0, before.get("chunked_cache_clean_bytes{}"));

        // one whole chunk and part of the next: two chunks dirty
        assertEquals(CHUNK + 4096, io.write(q, 0, ChunkedTargetTest.random(CHUNK + 4096, 1), false));
        RecordingSink dirty = scrape(t);
        assertEquals(2.0 * CHUNK, dirty.get("chunked_cache_dirty_bytes{}"));
        assertEquals(0, dirty.get("chunked_cache_clean_bytes{}"));
        assertEquals(0, dirty.get("chunked_writeback_chunks_total{}"));

        assertEquals(0, io.op(q, BlockOp.FLUSH, 0, 0));
        RecordingSink clean = scrape(t);
        assertEquals(0, clean.get("chunked_cache_dirty_bytes{}"));
        assertEquals(2.0 * CHUNK, clean.get("chunked_cache_clean_bytes{}"));
        assertEquals(2, clean.get("chunked_writeback_chunks_total{}"));
        assertEquals(0, clean.get("chunked_writeback_chunks_in_progress{}"));
        assertEquals(0, clean.get("chunked_flushes_in_progress{}"));
        // the lease's heartbeat (every 5 s) may have put its object meanwhile
        double beats = clean.get("chunked_lease_renewals_total{}") - dirty.get("chunked_lease_renewals_total{}");
        assertEquals(3 + beats, delta(dirty, clean, "store_requests_total{op=put,store=memory}"), "two chunks and the chunk map");
        double stored = length(store, Chunks.key(store.objects.keys(), 0)) + length(store, Chunks.key(store.objects.keys(), 1)) + length(store, ChunkMap.KEY);
        assertEquals(stored + beats * length(store, Lease.KEY), delta(dirty, clean, "store_bytes_total{op=put,store=memory}"),
                "the bytes the store received");

        assertEquals(0, io.op(q, BlockOp.DISCARD, 0, CHUNK));
        // a discarded chunk's object goes once the map that no longer lists it is stored (the next FLUSH), in the background
        assertEquals(0, delta(clean, scrape(t), "store_requests_total{op=delete,store=memory}"), "kept until the map is stored");
        assertEquals(0, io.op(q, BlockOp.FLUSH, 0, 0));
        RecordingSink discarded = scrape(t);
        for (int i = 0; i < 200 && delta(clean, discarded, "store_requests_total{op=delete,store=memory}") < 1; i++) {
            Thread.sleep(10);
            discarded = scrape(t);
        }
        assertEquals(1, delta(clean, discarded, "store_requests_total{op=delete,store=memory}"), "a whole chunk's object deleted");
        assertEquals(1.0 * CHUNK, discarded.get("chunked_cache_clean_bytes{}"), "the discarded chunk left the cache");
        for (String op : new String[] {"get", "put", "delete"}) {
            assertEquals(0, discarded.get("store_failures_total{op=" + op + ",store=memory}"));
            assertEquals(0, discarded.get("store_retries_total{op=" + op + ",store=memory}"));
        }
    }

    @Test
    void retriesAndFailuresOfAFailingStoreAreCounted() throws Exception {
        StoreRetryTest.FlakyStore store = new StoreRetryTest.FlakyStore();
        ChunkedTarget t = open(store, List.of(), List.of());
        TargetQueue q = ChunkedTargetTest.queue(t);
        assertEquals(4096, io.write(q, 0, ChunkedTargetTest.random(4096, 2), false));
        store.failPuts.set(2);
        assertEquals(0, io.op(q, BlockOp.FLUSH, 0, 0), "two failed attempts, then the chunk is stored");
        RecordingSink rode = scrape(t);
        assertEquals(2, rode.get("store_retries_total{op=put,store=memory}"));
        assertEquals(0, rode.get("store_failures_total{op=put,store=memory}"), "the call succeeded in the end");

        assertEquals(4096, io.write(q, 0, ChunkedTargetTest.random(4096, 3), false));
        store.failPuts.set(Integer.MAX_VALUE);
        assertTrue(io.op(q, BlockOp.FLUSH, 0, 0) < 0, "the flush fails once the policy gives up");
        RecordingSink failed = scrape(t);
        assertEquals(2 + RetryPolicy.DEFAULT.maxAttempts() - 1, failed.get("store_retries_total{op=put,store=memory}"));
        assertEquals(1, failed.get("store_failures_total{op=put,store=memory}"));
        assertEquals(1.0 * CHUNK, failed.get("chunked_cache_dirty_bytes{}"), "the chunk is still dirty");
        store.failPuts.set(0); // so that closing stores it
    }

    /** A store that counts something of its own (as the S3 store counts its client's retries). */
    static final class SelfCountingStore extends StoreRetryTest.FlakyStore implements MetricsSource {
        public void reportMetrics(MetricsSink sink) {
            sink.counter("store_retries_total", "retries inside the store", 5, "op", "put");
        }
    }

    /** A codec that counts its input, as the compression codecs do; instances of a volume share the count. */
    record CountingCodec(AtomicInteger encoded, ChunkedTargetTest.XorCodec xor) implements ChunkCodec, MetricsSource {
        public int maxEncodedLength(int length) {
            return xor.maxEncodedLength(length);
        }

        public int encode(MemorySegment in, MemorySegment out, long idx) {
            encoded.incrementAndGet();
            return xor.encode(in, out, idx);
        }

        public int decode(MemorySegment in, MemorySegment out, long idx) throws IOException {
            return xor.decode(in, out, idx);
        }

        public void reportMetrics(MetricsSink sink) {
            sink.counter("codec_chunks_encoded_total", "chunks encoded", encoded.get());
        }
    }

    @Test
    void whatTheStoreAndTheCodecsCountShowsWithTheirType() throws Exception {
        SelfCountingStore store = new SelfCountingStore();
        AtomicInteger encoded = new AtomicInteger();
        List<ChunkedTarget.CodecFactory> codecs = List.of(v -> new CountingCodec(encoded, new ChunkedTargetTest.XorCodec((byte) 9)), v -> new ChunkedTargetTest.XorCodec((byte) 3));
        ChunkedTarget t = open(store, List.of("counting", "xor"), codecs);
        TargetQueue q = ChunkedTargetTest.queue(t);
        assertEquals(8192, io.write(q, 0, ChunkedTargetTest.random(8192, 4), false));
        assertEquals(0, io.op(q, BlockOp.FLUSH, 0, 0));
        RecordingSink s = scrape(t);
        assertEquals(5, s.get("store_retries_total{op=put,store=memory}"), "the store's own count, under the volume's store label");
        assertEquals(encoded.get(), s.get("codec_chunks_encoded_total{codec=counting}"), "reported once, labelled with its type");
        assertTrue(encoded.get() >= 2, "the key check, the chunk and the map were encoded: " + encoded.get());
        assertFalse(s.values.keySet().stream().anyMatch(k -> k.contains("codec=xor")), "a codec that counts nothing reports nothing");
    }

    @Test
    void theLeaseIsHeldAndRenewed() throws Exception {
        StoreRetryTest.FlakyStore store = new StoreRetryTest.FlakyStore();
        long opened = System.currentTimeMillis() / 1000;
        ChunkedTarget t = open(store, List.of(), List.of());
        RecordingSink s = scrape(t);
        assertEquals(1, s.get("chunked_lease_held{}"));
        assertTrue(s.get("chunked_lease_renewed_timestamp_seconds{}") >= opened, "written when acquired");
        // the first heartbeat comes after Lease.HEARTBEAT_MS
        for (int i = 0; i < 400 && scrape(t).get("chunked_lease_renewals_total{}") == 0; i++) Thread.sleep(50);
        s = scrape(t);
        assertEquals(1, s.get("chunked_lease_renewals_total{}"));
        assertEquals(0, s.get("chunked_lease_renewal_failures_total{}"));
        io.open.remove(t);
        t.close();
        assertEquals(0, scrape(t).get("chunked_lease_held{}"), "released on close");
    }

    private static double delta(RecordingSink before, RecordingSink after, String series) {
        return after.get(series) - before.get(series);
    }

    private static int length(StoreRetryTest.FlakyStore store, String key) {
        return store.objects.get(key).orElseThrow().length;
    }
}
