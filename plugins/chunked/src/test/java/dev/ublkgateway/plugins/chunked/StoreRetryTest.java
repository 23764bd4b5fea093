package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.RetryPolicy;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.plugins.chunked.store.MemoryStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** Store calls are retried once, in one place, under one policy; closing the volume adds no retries of its own. */
class StoreRetryTest {
    static final RetryPolicy FAST = new RetryPolicy(4, Duration.ofMillis(1), Duration.ofMillis(4), Duration.ofSeconds(5));
    final ChunkedTargetTest io = new ChunkedTargetTest();

    /** A memory store whose next {@code failPuts} puts of chunk objects (or of the map) fail; it counts the chunk puts tried. */
    static class FlakyStore implements ObjectStore {
        final MemoryStore objects = new MemoryStore();
        final AtomicInteger failPuts = new AtomicInteger(), chunkPuts = new AtomicInteger();
        RetryPolicy own = RetryPolicy.NONE;
        volatile String failing = "chunks/";

        public Optional<byte[]> get(String key) {
            return objects.get(key);
        }

        public void put(String key, byte[] data, int offset, int length) throws IOException {
            if (key.startsWith("chunks/")) chunkPuts.incrementAndGet();
            if (key.startsWith(failing) && failPuts.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                throw new IOException("put " + key + ": 503 Slow Down");
            }
            objects.put(key, data, offset, length);
        }

        public void delete(String key) {
            objects.delete(key);
        }

        public RetryPolicy retries() {
            return own;
        }

        public void close() {}
    }

    @AfterEach
    void tearDown() throws IOException {
        io.tearDown();
    }

    @Test
    void aStoreWithoutRetriesIsRetriedUnderThePolicy() throws IOException {
        FlakyStore store = new FlakyStore();
        store.failPuts.set(3);
        ObjectStore retrying = RetryingStore.over(store, FAST);
        retrying.put("chunks/0/0", new byte[] {1}, 0, 1);
        assertEquals(4, store.chunkPuts.get(), "three failures, then success");
        assertEquals(FAST, retrying.retries(), "the wrapper reports its policy, so nothing retries on top of it");
        assertSame(retrying, RetryingStore.over(retrying, FAST));
    }

    @Test
    void aStoreThatRetriesItselfIsNotRetriedAgain() {
        FlakyStore store = new FlakyStore();
        store.own = new RetryPolicy(1, Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(60)); // s3, max-attempts: 1
        assertSame(store, RetryingStore.over(store, FAST));
        store.failPuts.set(1);
        assertThrows(IOException.class, () -> RetryingStore.over(store, FAST).put("chunks/0/0", new byte[1], 0, 1));
        assertEquals(1, store.chunkPuts.get(), "its own single attempt is all");
    }

    static ChunkedTargetConfig lazy() {
        return new ChunkedTargetConfig(Size.of(ChunkedTargetTest.CHUNK), Size.of(16L * ChunkedTargetTest.CHUNK), 4, 600_000, 0,
                List.of(), null);
    }

    ChunkedTarget open(FlakyStore store) throws IOException {
        return ChunkedTarget.open(lazy(), ChunkedTargetTest.DEV, false, store, List.of(), List.of());
    }

    @Test
    void closeRidesOutTransientFailuresThroughTheStorePolicy() throws Exception {
        FlakyStore store = new FlakyStore();
        ChunkedTarget t = open(store);
        byte[] data = ChunkedTargetTest.random(8192, 7);
        TargetQueue q = ChunkedTargetTest.queue(t);
        assertEquals(data.length, io.write(q, 0, data, false));
        store.failPuts.set(2);
        t.close();
        assertEquals(3, store.chunkPuts.get(), "two failed attempts and one that stored the chunk");
        ChunkedTarget again = open(store);
        io.open.add(again);
        assertArrayEquals(data, io.read(ChunkedTargetTest.queue(again), 0, data.length));
    }

    @Test
    void closeFailsAfterThePolicysAttemptsWithoutRetriesOfItsOwn() throws Exception {
        FlakyStore store = new FlakyStore();
        ChunkedTarget t = open(store);
        TargetQueue q = ChunkedTargetTest.queue(t);
        assertEquals(8192, io.write(q, 0, ChunkedTargetTest.random(8192, 8), false));
        store.failPuts.set(Integer.MAX_VALUE);
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, t::close);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(RetryPolicy.DEFAULT.maxAttempts(), store.chunkPuts.get(), "one round of the policy's attempts, not several");
        assertTrue(ms < 8_000, "close gave up in " + ms + " ms");
        assertTrue(e.getMessage().startsWith("volume vol: 0.1 MiB could not be stored: put chunks/0/0.")
                && e.getMessage().contains(": 503 Slow Down ("
                + RetryPolicy.DEFAULT.maxAttempts() + " attempts)"), e.getMessage());
    }

    @Test
    void aChunkMapLeftUnstoredFailsTheCloseThoughNoChunkIsDirty() throws Exception {
        FlakyStore store = new FlakyStore();
        ChunkedTargetTest.Recorder progress = new ChunkedTargetTest.Recorder();
        ChunkedTarget t = ChunkedTarget.open(lazy(), ChunkedTargetTest.DEV, false, false, RetryingStore.over(store, FAST),
                List.of(), List.of(), progress);
        TargetQueue q = ChunkedTargetTest.queue(t);
        assertEquals(8192, io.write(q, 0, ChunkedTargetTest.random(8192, 8), false));
        store.failing = ChunkMap.KEY;
        store.failPuts.set(Integer.MAX_VALUE);
        // the FLUSH stores the chunk and fails on the map: nothing is dirty in the cache, the map still is
        assertNotEquals(0, io.op(q, dev.ublkgateway.api.BlockOp.FLUSH, 0, 0));
        assertEquals(0, t.dirtyBytes());
        IOException e = assertThrows(IOException.class, t::close);
        assertTrue(e.getMessage().startsWith("volume vol: its chunk map could not be stored: put map: 503 Slow Down"), e.getMessage());
        assertEquals(List.of("start flush 0", "failed flush: " + e.getMessage()), progress.events(),
                "a down waiting on this gateway learns of the failure");
    }
}
