package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.api.Volume;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Format 2 volumes: snapshots (device down and through a serving gateway), rollback, snapshot-delete, gc
 * beside concurrent writes, verify and export of snapshots, format 1 volumes kept working, renamed objects
 * refused; with exact object counts.
 */
class SnapshotTest {
    static final int CHUNK = ChunkedVolumeTest.CHUNK;
    static final long SIZE = 41L * CHUNK;

    @TempDir
    Path tmp;
    final ChunkedVolumeTest base = new ChunkedVolumeTest();
    final ChunkedTargetTest io = new ChunkedTargetTest();

    @BeforeEach
    void setUp() {
        base.tmp = tmp;
    }

    Volume volume(String kind) throws IOException {
        return base.volume(kind, (byte) 3);
    }

    ObjectStore store() {
        return base.store;
    }

    List<String> chunkKeys() throws IOException {
        return store().list("chunks/", true);
    }

    ChunkedTarget serve() throws IOException {
        return serve(store());
    }

    static ChunkedTarget serve(ObjectStore s) throws IOException {
        DeviceDescriptor d = new DeviceDescriptor("vol", SIZE, 4096, 1, 32, 512 * 1024);
        return ChunkedTarget.open(ChunkedVolumeTest.config(), d, false, s, List.of("xor"), List.of(v -> new ChunkedTargetTest.XorCodec((byte) 3)));
    }

    byte[] export(Volume v, String snapshot) throws IOException {
        return ChunkedVolumeTest.export(tmp, v, snapshot);
    }

    byte[] image() throws IOException {
        return Arrays.copyOf(Files.readAllBytes(base.sparseImage()), (int) SIZE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void snapshotRollbackAndDeleteKeepExactlyTheObjectsTheyNeed(String kind) throws Exception {
        try (Volume v = volume(kind)) {
            byte[] img = image();
            assertEquals(4, v.importFrom(base.sparseImage(), SIZE, x -> {}));
            assertEquals(4, chunkKeys().size());
            Volume.SnapshotInfo s1 = v.snapshot("s1", 1000);
            assertEquals(4L * CHUNK, s1.referencedBytes());
            assertEquals(List.of("s1"), v.snapshots().stream().map(Volume.SnapshotInfo::name).toList());
            assertTrue(store().get("snapshots/s1.map").isPresent());
            assertEquals(4, chunkKeys().size(), "a snapshot copies no chunk");
            IOException dup = assertThrows(IOException.class, () -> v.snapshot("s1", 1000));
            assertEquals("snapshot s1 exists; choose another name", dup.getMessage());
            assertThrows(IllegalArgumentException.class, () -> v.snapshot("../x", 1000));

            // served: chunk 0 rewritten, chunk 8 discarded; the old objects stay for s1
            byte[] now = img.clone();
            ChunkedTarget t = serve();
            TargetQueue q = ChunkedTargetTest.queue(t);
            byte[] fresh = ChunkedTargetTest.random(CHUNK, 5);
            io.write(q, 0, fresh, false);
            System.arraycopy(fresh, 0, now, 0, CHUNK);
            assertEquals(0, io.op(q, BlockOp.DISCARD, 8L * CHUNK, CHUNK));
            Arrays.fill(now, 8 * CHUNK, 9 * CHUNK, (byte) 0);
            io.op(q, BlockOp.FLUSH, 0, 0);
            t.close();
            assertEquals(5, chunkKeys().size(), "chunks 0 (two generations), 7, 8 (s1's) and 40: " + chunkKeys());
            assertTrue(v.verify(x -> {}).clean());
            assertArrayEquals(img, export(v, "s1"));
            assertArrayEquals(now, export(v, null));

            // a second snapshot, then rollback to the first: the objects only the volume listed go
            v.snapshot("s2", 1000);
            assertEquals(List.of("s1", "s2"), v.snapshots().stream().map(Volume.SnapshotInfo::name).toList());
            assertEquals(3L * CHUNK, v.snapshots().get(1).referencedBytes());
            v.rollback("s1");
            assertArrayEquals(img, export(v, null));
            assertEquals(5, chunkKeys().size(), "the new chunk 0 stays for s2");
            assertEquals(2, v.deleteSnapshot("s2"), "its manifest and the chunk 0 only it listed");
            assertEquals(4, chunkKeys().size());
            assertArrayEquals(img, export(v, "s1"));
            assertEquals(1, v.deleteSnapshot("s1"), "the volume lists every object s1 did");
            assertEquals(List.of(), v.snapshots());
            assertEquals(4, chunkKeys().size());
            assertArrayEquals(img, export(v, null));
            Volume.VerifyReport r = v.verify(x -> {});
            assertTrue(r.clean(), r.damage().toString());
            assertEquals(0, r.unreferenced());
            IOException none = assertThrows(IOException.class, () -> v.rollback("s1"));
            assertEquals("volume vol has no snapshot s1; list them with ublk-gateway volume snapshots", none.getMessage());
        }
    }

    @Test
    void aServingGatewayTakesTheSnapshotAfterAFlushAndItExportsWhileServed() throws Exception {
        try (Volume v = volume("memory")) {
            v.create(SIZE);
            ChunkedTarget t = serve();
            try {
                TargetQueue q = ChunkedTargetTest.queue(t);
                byte[] a = ChunkedTargetTest.random(3 * CHUNK, 1);
                io.write(q, CHUNK, a, false); // acknowledged, still only in the cache
                assertEquals(0, chunkKeys().size());
                CompletableFuture<Volume.SnapshotInfo> taken = CompletableFuture.supplyAsync(() -> {
                    try {
                        return v.snapshot("live", 20_000);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                int took = 0;
                for (int i = 0; i < 500 && took == 0; i++) {
                    took = t.takeSnapshotRequests();
                    Thread.sleep(10);
                }
                assertEquals(1, took);
                assertEquals(3L * CHUNK, taken.get(20, TimeUnit.SECONDS).referencedBytes());
                assertEquals(List.of(), store().list(Snapshot.REQUESTS, true), "the request is gone");
                io.write(q, CHUNK, ChunkedTargetTest.random(CHUNK, 2), false);
                io.op(q, BlockOp.FLUSH, 0, 0);
                byte[] want = new byte[(int) SIZE];
                System.arraycopy(a, 0, want, CHUNK, a.length);
                assertArrayEquals(want, export(v, "live"), "exported while served: the data at the snapshot");
                IOException served = assertThrows(IOException.class, () -> v.rollback("live"));
                assertTrue(served.getMessage().contains("is in use by gateway"), served.getMessage());
                // a request the gateway cannot take is answered with the reason
                byte[] req = "requested=1\n".getBytes(StandardCharsets.UTF_8);
                store().put(Snapshot.REQUESTS + "live", req, 0, req.length);
                t.takeSnapshotRequests();
                assertEquals("snapshot live exists; choose another name",
                        new String(store().get(Snapshot.REQUESTS + "live.failed").orElseThrow(), StandardCharsets.UTF_8));
            } finally {
                t.close();
            }
            assertEquals(3, chunkKeys().size() - 1, "chunk 1 twice (the volume's and the snapshot's), 2, 3");
            assertTrue(v.verify(x -> {}).clean());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void gcRemovesOnlyUnreferencedObjects(String kind) throws Exception {
        try (Volume v = volume(kind)) {
            v.importFrom(base.sparseImage(), SIZE, x -> {});
            v.snapshot("s", 1000);
            byte[] junk = {1, 2, 3};
            long counter = ChunkMap.parse(plainMap(), 0, plainMap().length, 41).counter();
            store().put(StoreLayer.key(3, 5), junk, 0, 3);               // a leftover below the map's counter
            store().put(StoreLayer.key(3, counter + 1000), junk, 0, 3);  // one above it (a write in flight, if served)
            store().put(StoreLayer.key(99, 5), junk, 0, 3);              // beyond the volume
            store().put("chunks/0/zz", junk, 0, 3);                      // not a name of this format
            assertEquals(8, chunkKeys().size());
            assertEquals(new Volume.GcReport(8, 4, 3, 1), v.gc(true));
            assertEquals(8, chunkKeys().size(), "a dry run removes nothing");

            // while served: the object above the stored map's counter may be a write in flight, and stays
            ChunkedTarget t = serve();
            try {
                assertEquals(new Volume.GcReport(8, 4, 2, 2), v.gc(false));
            } finally {
                t.close();
            }
            assertEquals(6, chunkKeys().size());
            // device down, under the lease: nobody writes, so it goes too
            assertEquals(new Volume.GcReport(6, 4, 1, 1), v.gc(false));
            assertEquals(5, chunkKeys().size());
            assertTrue(v.verify(x -> {}).clean());
            assertArrayEquals(image(), export(v, "s"));
        }
    }

    private byte[] plainMap() throws IOException {
        byte[] stored = store().get(ChunkMap.KEY).orElseThrow();
        // the xor codec: bytes ^ 3, then a 4-byte CRC
        byte[] p = Arrays.copyOf(stored, stored.length - 4);
        for (int i = 0; i < p.length; i++) p[i] ^= 3;
        return p;
    }

    /** gc and snapshot-delete beside a gateway that keeps writing and flushing never remove what it references. */
    @Test
    void gcBesideConcurrentWritesNeverRemovesAReferencedObject() throws Exception {
        try (Volume v = volume("memory")) {
            v.create(SIZE);
            ChunkedTarget t = serve();
            byte[] want = new byte[(int) SIZE];
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    TargetQueue q = ChunkedTargetTest.queue(t);
                    java.util.Random r = new java.util.Random(7);
                    for (int n = 0; !stop.get() || n < 200; n++) {
                        int chunk = r.nextInt(8);
                        byte[] b = ChunkedTargetTest.random(CHUNK, n);
                        assertEquals(CHUNK, io.write(q, (long) chunk * CHUNK, b, r.nextInt(4) == 0));
                        System.arraycopy(b, 0, want, chunk * CHUNK, CHUNK);
                        if (r.nextInt(3) == 0) assertEquals(0, io.op(q, BlockOp.FLUSH, 0, 0));
                        if (n % 50 == 0) {
                            assertEquals(0, io.op(q, BlockOp.FLUSH, 0, 0));
                            t.takeSnapshot("w" + n);
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            long removed = 0;
            int rounds = 0;
            while (!writer.isDone() || rounds < 20) {
                removed += v.gc(false).removed();
                List<Volume.SnapshotInfo> s = v.snapshots();
                if (s.size() > 2) v.deleteSnapshot(s.getFirst().name());
                if (++rounds == 20) stop.set(true);
            }
            writer.get(60, TimeUnit.SECONDS);
            t.close();
            Volume.VerifyReport r = v.verify(x -> {});
            assertTrue(r.clean(), r.damage().toString());
            assertArrayEquals(want, export(v, null));
            v.gc(false);
            assertEquals(0, v.verify(x -> {}).unreferenced(), "nothing unreferenced left once the gateway stopped");
            System.out.println("gc beside writes: " + rounds + " rounds, " + removed + " objects removed");
        }
    }

    @Test
    void aFormatOneVolumeKeepsWorkingAndHasNoSnapshots() throws Exception {
        try (Volume v = volume("memory")) {
            v.create(SIZE);
            byte[] meta = new String(store().get(VolumeMeta.KEY).orElseThrow(), StandardCharsets.UTF_8)
                    .replace("format=2", "format=1").getBytes(StandardCharsets.UTF_8);
            store().put(VolumeMeta.KEY, meta, 0, meta.length);
            ChunkedTarget t = serve();
            byte[] a = ChunkedTargetTest.random(CHUNK, 3);
            TargetQueue q = ChunkedTargetTest.queue(t);
            io.write(q, 0, a, false);
            io.op(q, BlockOp.FLUSH, 0, 0);
            io.write(q, 0, a, false);
            io.op(q, BlockOp.FLUSH, 0, 0);
            t.close();
            assertEquals(List.of("chunks/0/0"), chunkKeys(), "rewritten in place");
            assertEquals(1, v.status().orElseThrow().format());
            assertTrue(v.verify(x -> {}).clean());
            assertArrayEquals(a, Arrays.copyOf(export(v, null), CHUNK));
            IOException e = assertThrows(IOException.class, () -> v.snapshot("s", 1000));
            assertEquals("volume vol: " + VolumeFormat.formatOneSnapshots(), e.getMessage());
            assertThrows(IOException.class, () -> v.gc(true));

            byte[] newer = new String(meta, StandardCharsets.UTF_8).replace("format=1", "format=3").getBytes(StandardCharsets.UTF_8);
            store().put(VolumeMeta.KEY, newer, 0, newer.length);
            IOException three = assertThrows(IOException.class, this::serve);
            assertEquals("volume vol: its format 3 is newer than this gateway reads (formats 1 to 2); use a newer ublk-gateway",
                    three.getMessage());
        }
    }

    @Test
    void renamedObjectsAreRefused() throws Exception {
        try (Volume v = volume("memory")) {
            v.importFrom(base.sparseImage(), SIZE, x -> {});
            v.snapshot("s1", 1000);
            ChunkedTarget t = serve();
            TargetQueue q = ChunkedTargetTest.queue(t);
            io.write(q, 0, ChunkedTargetTest.random(CHUNK, 9), false);
            io.op(q, BlockOp.FLUSH, 0, 0);
            t.close();
            // the snapshot's chunk 0 copied over the volume's: another generation than its name says
            List<String> zero = chunkKeys().stream().filter(k -> StoreLayer.ref(k).index() == 0).sorted().toList();
            assertEquals(2, zero.size());
            String older = zero.stream().min(java.util.Comparator.comparingLong(k -> StoreLayer.ref(k).gen())).orElseThrow();
            String newer = zero.stream().filter(k -> !k.equals(older)).findFirst().orElseThrow();
            store().put(newer, store().get(older).orElseThrow(), 0, store().get(older).orElseThrow().length);
            Volume.VerifyReport r = v.verify(x -> {});
            assertEquals(1, r.damage().size(), r.damage().toString());
            assertTrue(r.damage().getFirst().problem().contains("a renamed or replaced object"), r.damage().toString());
            IOException read = assertThrows(IOException.class, () -> export(v, null));
            assertTrue(read.getMessage().contains("a renamed or replaced object"), read.getMessage());
            // a manifest copied to another name
            store().put("snapshots/s2.map", store().get("snapshots/s1.map").orElseThrow(), 0, store().get("snapshots/s1.map").orElseThrow().length);
            IOException m = assertThrows(IOException.class, () -> export(v, "s2"));
            assertEquals("the manifest of snapshot s2 is snapshot s1's: a renamed object", m.getMessage());
        }
    }

    /** A store whose {@code failAt}-th put or delete fails: an operation stopped at each step. */
    static final class FailingStore implements ObjectStore {
        final ObjectStore below;
        int calls, failAt = -1;

        FailingStore(ObjectStore below) {
            this.below = below;
        }

        private synchronized void step(String what) throws IOException {
            if (++calls == failAt) throw new IOException("injected failure at " + what);
        }

        public Optional<byte[]> get(String key) throws IOException { return below.get(key); }
        public void put(String key, byte[] d, int o, int l) throws IOException { step("put " + key); below.put(key, d, o, l); }
        public void delete(String key) throws IOException { step("delete " + key); below.delete(key); }
        public List<String> list(String prefix, boolean r) throws IOException { return below.list(prefix, r); }
        // one attempt, and no retries on top (a policy other than NONE)
        public dev.ublkgateway.api.RetryPolicy retries() {
            return new dev.ublkgateway.api.RetryPolicy(1, java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(1), java.time.Duration.ZERO);
        }
        public void close() {}
    }

    /**
     * Each operation stopped at each of its store writes in turn (as a crash would): afterwards the volume
     * verifies clean, its data and every snapshot's are one of the states before or after the operation, and
     * gc then leaves nothing unreferenced.
     */
    @ParameterizedTest
    @ValueSource(strings = {"snapshot", "rollback", "snapshot-delete", "gc"})
    void anOperationStoppedAtAnyStoreCallLosesNothingReferenced(String op) throws Exception {
        int stops = 0;
        for (int failAt = 1; ; failAt++) {
            base.store = null;
            FailingStore fs = new FailingStore(new dev.ublkgateway.plugins.chunked.store.MemoryStore());
            base.store = fs;
            try (Volume v = volume("memory")) {
                byte[] img = image();
                v.importFrom(base.sparseImage(), SIZE, x -> {});
                v.snapshot("s1", 1000);
                byte[] now = img.clone();
                ChunkedTarget t = serve(fs);
                byte[] fresh = ChunkedTargetTest.random(CHUNK, 5);
                io.write(ChunkedTargetTest.queue(t), 0, fresh, false);
                System.arraycopy(fresh, 0, now, 0, CHUNK);
                t.close();
                fs.put(StoreLayer.key(5, 3), new byte[] {1}, 0, 1); // a crash leftover
                fs.calls = 0;
                fs.failAt = failAt;
                boolean failed = false;
                try {
                    switch (op) {
                        case "snapshot" -> v.snapshot("s2", 1000);
                        case "rollback" -> v.rollback("s1");
                        case "snapshot-delete" -> v.deleteSnapshot("s1");
                        default -> v.gc(false);
                    }
                } catch (IOException e) {
                    failed = true;
                    assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
                }
                fs.failAt = -1;
                fs.delete(Lease.KEY); // a process stopped mid-operation leaves its lease to be taken over
                Volume.VerifyReport r = v.verify(x -> {});
                assertTrue(r.clean(), op + " stopped at store write " + failAt + ": " + r.damage());
                byte[] cur = export(v, null);
                assertTrue(Arrays.equals(cur, now) || op.equals("rollback") && Arrays.equals(cur, img), op + " at " + failAt + ": data");
                for (Volume.SnapshotInfo s : v.snapshots()) {
                    assertArrayEquals(s.name().equals("s1") ? img : now, export(v, s.name()), op + " at " + failAt + ": " + s.name());
                }
                v.gc(false);
                assertEquals(0, v.verify(x -> {}).unreferenced());
                if (!failed) break;
                stops++;
            }
        }
        assertTrue(stops >= 1, op + " was stopped " + stops + " times");
    }
}
