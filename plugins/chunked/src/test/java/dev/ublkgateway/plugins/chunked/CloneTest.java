package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ProviderContext;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.api.Volume;
import dev.ublkgateway.api.VolumeInfo;
import dev.ublkgateway.plugins.chunked.store.DirectoryStore;
import dev.ublkgateway.plugins.chunked.store.MemoryStoreConfig;
import dev.ublkgateway.plugins.chunked.store.MemoryStoreProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Volume clones: reads fall through to the parent's snapshot, writes (whole, partial, discards) stay in the
 * clone, the parent's snapshot and volume are protected while clones read them, flatten copies what the
 * clone still reads, chains of clones, gc keeps exactly what is needed, clone and flatten stopped at each
 * store write lose nothing, and a parent object moved into the clone is an I/O error.
 */
class CloneTest {
    static final int CHUNK = ChunkedVolumeTest.CHUNK;
    static final long SIZE = 41L * CHUNK;

    @TempDir
    Path tmp;
    final ChunkedVolumeTest base = new ChunkedVolumeTest();
    final ChunkedTargetTest io = new ChunkedTargetTest();
    final MemoryStoreProvider memory = new MemoryStoreProvider();
    String kind = "memory";
    /** Wraps every store opened (the fault injection); null: none. */
    Calls calls;
    final List<Volume> open = new ArrayList<>();

    /** The store of volume {@code name}: a named memory store {@code pool/NAME}, or folder {@code store/NAME}. */
    ObjectStore storeOf(String name) throws IOException {
        ObjectStore s = kind.equals("memory") ? memory.open(new MemoryStoreConfig("pool/" + name))
                : new DirectoryStore(tmp.resolve("store").resolve(name), true);
        return calls == null ? s : new FailingStore(s, calls);
    }

    ProviderContext context(String name, byte key) throws IOException {
        ObjectStore s = storeOf(name);
        return new ProviderContext() {
            public ObjectStore openStore(NestedSpec spec) {
                return s;
            }

            public ChunkCodec createCodec(NestedSpec c, DeviceDescriptor d, VolumeInfo v) {
                return new ChunkedTargetTest.XorCodec(key, v.volumeId());
            }

            public boolean forceTakeover() {
                return false;
            }
        };
    }

    Volume vol(String name) throws IOException {
        return vol(name, (byte) 3);
    }

    Volume vol(String name, byte key) throws IOException {
        Volume v = new ChunkedTargetProvider().volume(ChunkedVolumeTest.config(), name, context(name, key));
        open.add(v);
        return v;
    }

    ChunkedTarget serve(String name, long size) throws IOException {
        DeviceDescriptor d = new DeviceDescriptor(name, size, 4096, 1, 32, 512 * 1024);
        return ChunkedTarget.open(ChunkedVolumeTest.config(), d, false, storeOf(name), List.of("xor"),
                List.of(v -> new ChunkedTargetTest.XorCodec((byte) 3, v.volumeId())));
    }

    List<String> chunkKeys(String name) throws IOException {
        return storeOf(name).list("chunks/", true);
    }

    byte[] export(Volume v, String snapshot) throws IOException {
        return ChunkedVolumeTest.export(tmp, v, snapshot);
    }

    /** The parent: the sparse image (data in chunks 0, 7, 8, 40) and snapshot s1 of it. */
    byte[] parentWithSnapshot() throws IOException {
        base.tmp = tmp;
        Volume p = vol("parent");
        assertEquals(4, p.importFrom(base.sparseImage(), SIZE, x -> {}));
        p.snapshot("s1", 1000);
        return Arrays.copyOf(Files.readAllBytes(base.sparseImage()), (int) SIZE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void aCloneReadsItsParentAndWritesOnlyItsOwnObjects(String k) throws Exception {
        kind = k;
        byte[] img = parentWithSnapshot();
        Volume p = vol("parent"), c = vol("child");
        Volume.VolumeStatus st = c.cloneFrom("parent", "s1");
        assertEquals(SIZE, st.sizeBytes());
        assertEquals(0, chunkKeys("child").size(), "a clone copies no chunk");
        assertArrayEquals(img, export(c, null));
        assertEquals(new Volume.Parent("parent", "s1", p.status().orElseThrow().volumeId()), c.lineage().parent());
        assertEquals(List.of("child (of s1)"), p.lineage().clones());
        IOException again = assertThrows(IOException.class, () -> vol("child").cloneFrom("parent", "s1"));
        assertTrue(again.getMessage().startsWith("volume child already exists"), again.getMessage());
        IOException noSnap = assertThrows(IOException.class, () -> vol("other").cloneFrom("parent", "nope"));
        assertEquals("volume other: its parent volume parent has no snapshot nope; list them with ublk-gateway volume snapshots",
                noSnap.getMessage());
        assertEquals(List.of(), storeOf("parent").list("clones/other", false), "a refused clone leaves no record");

        // served: chunk 0 rewritten whole, 4 KiB of chunk 7 written (the rest is the parent's), chunk 8 discarded
        byte[] want = img.clone();
        ChunkedTarget t = serve("child", SIZE);
        TargetQueue q = ChunkedTargetTest.queue(t);
        assertArrayEquals(Arrays.copyOfRange(img, 7 * CHUNK, 8 * CHUNK), io.read(q, 7L * CHUNK, CHUNK), "a parent chunk, served");
        byte[] fresh = ChunkedTargetTest.random(CHUNK, 5), part = ChunkedTargetTest.random(4096, 6);
        io.write(q, 0, fresh, false);
        System.arraycopy(fresh, 0, want, 0, CHUNK);
        io.write(q, 7L * CHUNK, part, false);
        System.arraycopy(part, 0, want, 7 * CHUNK, 4096);
        assertEquals(0, io.op(q, BlockOp.DISCARD, 8L * CHUNK, CHUNK));
        Arrays.fill(want, 8 * CHUNK, 9 * CHUNK, (byte) 0);
        io.op(q, BlockOp.FLUSH, 0, 0);
        assertArrayEquals(Arrays.copyOfRange(want, 0, 10 * CHUNK), io.read(q, 0, 10 * CHUNK));
        t.close();
        assertEquals(3, chunkKeys("child").size(), "chunks 0, 7 and 8 (all zeros, over the parent's): " + chunkKeys("child"));
        assertEquals(4, chunkKeys("parent").size(), "the parent is unchanged");
        assertArrayEquals(img, export(p, null));
        assertArrayEquals(want, export(c, null));

        // the parent moves on (served: chunks 0 and 40 rewritten); its snapshot keeps what the clone reads
        t = serve("parent", SIZE);
        q = ChunkedTargetTest.queue(t);
        io.write(q, 0, ChunkedTargetTest.random(CHUNK, 7), false);
        io.write(q, 40L * CHUNK, ChunkedTargetTest.random(CHUNK / 2, 8), false);
        io.op(q, BlockOp.FLUSH, 0, 0);
        t.close();
        assertEquals(6, chunkKeys("parent").size());
        assertEquals(new Volume.GcReport(6, 6, 0, 0), p.gc(false));
        assertEquals(new Volume.GcReport(3, 3, 0, 0), c.gc(false));
        assertEquals(6, chunkKeys("parent").size());
        assertArrayEquals(want, export(c, null));
        Volume.VerifyReport r = c.verify(x -> {});
        assertTrue(r.clean(), r.damage().toString());
        assertEquals(3 + 4, r.stored(), "its own 3 objects and the 4 of the parent's snapshot");

        // a grown clone reads zeros beyond the snapshot
        t = serve("child", SIZE);
        t.resize(SIZE + 2L * CHUNK, false);
        q = ChunkedTargetTest.queue(t);
        assertArrayEquals(new byte[2 * CHUNK], io.read(q, SIZE, 2 * CHUNK));
        t.close();
    }

    @Test
    void theParentIsProtectedUntilTheCloneIsFlattenedAndFlattenKeepsTheData() throws Exception {
        byte[] img = parentWithSnapshot();
        Volume p = vol("parent"), c = vol("child");
        c.cloneFrom("parent", "s1");
        ChunkedTarget t = serve("child", SIZE);
        byte[] fresh = ChunkedTargetTest.random(CHUNK, 9);
        io.write(ChunkedTargetTest.queue(t), 7L * CHUNK, fresh, false);
        t.close();
        byte[] want = img.clone();
        System.arraycopy(fresh, 0, want, 7 * CHUNK, CHUNK);

        IOException del = assertThrows(IOException.class, () -> p.deleteSnapshot("s1"));
        assertEquals("volume parent: snapshot s1 cannot be deleted: clones read from it: child (of s1); flatten them "
                + "(ublk-gateway volume flatten CLONE) or delete them first", del.getMessage());
        IOException gone = assertThrows(IOException.class, p::delete);
        assertTrue(gone.getMessage().startsWith("volume parent cannot be deleted: clones read from it: child (of s1)"), gone.getMessage());
        p.rollback("s1"); // a rollback keeps every snapshot, so the clone keeps reading
        assertArrayEquals(want, export(c, null));

        // a clone's snapshot reads the parent too, so flatten waits for it to go
        c.snapshot("c1", 1000);
        IOException snaps = assertThrows(IOException.class, () -> c.flatten(x -> {}));
        assertTrue(snaps.getMessage().startsWith("volume child has snapshots (c1)"), snaps.getMessage());
        c.deleteSnapshot("c1");

        List<Long> progress = new ArrayList<>();
        assertEquals(3, c.flatten(progress::add), "chunks 0, 8 and 40 (7 is the clone's own)");
        assertEquals(0L, progress.getLast());
        assertNull(c.lineage().parent());
        assertEquals(List.of(), p.lineage().clones());
        assertEquals(4, chunkKeys("child").size());
        assertArrayEquals(want, export(c, null));
        assertEquals(1, p.deleteSnapshot("s1"), "the parent's volume lists every object s1 did");
        p.delete();
        assertArrayEquals(want, export(c, null));
        Volume.VerifyReport r = c.verify(x -> {});
        assertTrue(r.clean(), r.damage().toString());
        assertEquals(4, r.stored());
        IOException not = assertThrows(IOException.class, () -> c.flatten(x -> {}));
        assertEquals("volume child is not a clone; there is nothing to flatten", not.getMessage());
    }

    @Test
    void clonesOfClonesReadUpTheChain() throws Exception {
        byte[] img = parentWithSnapshot();
        Volume p = vol("parent"), c = vol("child"), g = vol("grand");
        c.cloneFrom("parent", "s1");
        ChunkedTarget t = serve("child", SIZE);
        byte[] fresh = ChunkedTargetTest.random(CHUNK, 11);
        io.write(ChunkedTargetTest.queue(t), 40L * CHUNK, Arrays.copyOf(fresh, CHUNK / 2), false);
        t.close();
        byte[] want = img.clone();
        System.arraycopy(fresh, 0, want, 40 * CHUNK, CHUNK / 2);
        c.snapshot("c1", 1000);
        g.cloneFrom("child", "c1");
        assertArrayEquals(want, export(g, null));
        assertTrue(g.verify(x -> {}).clean());
        assertEquals(List.of("grand (of c1)"), c.lineage().clones());
        assertThrows(IOException.class, c::delete);
        assertThrows(IOException.class, () -> c.deleteSnapshot("c1"));
        assertEquals(4, g.flatten(x -> {}), "chunks 0, 7, 8 from the parent and 40 from the child");
        assertArrayEquals(want, export(g, null));
        c.deleteSnapshot("c1");
        c.flatten(x -> {});
        p.deleteSnapshot("s1");
        assertArrayEquals(want, export(c, null));
        assertArrayEquals(want, export(g, null));
    }

    @Test
    void aParentObjectInTheClonesPlaceIsAnIoErrorAndAWrongKeyIsRefused() throws Exception {
        byte[] img = parentWithSnapshot();
        IOException key = assertThrows(IOException.class, () -> vol("other", (byte) 4).cloneFrom("parent", "s1"));
        assertTrue(key.getMessage().startsWith("volume other: its parent volume parent cannot be opened")
                || key.getMessage().contains("the key (or codec settings) does not match"), key.getMessage());
        assertTrue(key.getMessage().contains("the key (or codec settings) does not match the one the volume was created with"), key.getMessage());
        Volume c = vol("child");
        c.cloneFrom("parent", "s1");
        ChunkedTarget t = serve("child", SIZE);
        io.write(ChunkedTargetTest.queue(t), 0, ChunkedTargetTest.random(CHUNK, 12), false);
        t.close();
        String own = chunkKeys("child").getFirst(), theirs = Chunks.key(chunkKeys("parent"), 0);
        byte[] moved = storeOf("parent").get(theirs).orElseThrow();
        storeOf("child").put(own, moved, 0, moved.length);
        IOException e = assertThrows(IOException.class, () -> export(c, null));
        assertTrue(e.getMessage().contains("chunk 0 cannot be decoded (checksum mismatch)"), e.getMessage());
        assertFalse(c.verify(x -> {}).clean());
        assertArrayEquals(img, export(vol("parent"), "s1"), "the same object reads fine as the parent's");
    }

    /** Counts the puts and deletes of every store of a test; the {@code failAt}-th fails. */
    static final class Calls {
        int calls, failAt = -1;

        synchronized void step(String what) throws IOException {
            if (++calls == failAt) throw new IOException("injected failure at " + what);
        }
    }

    record FailingStore(ObjectStore below, Calls calls) implements ObjectStore {
        public Optional<byte[]> get(String key) throws IOException { return below.get(key); }
        public void put(String key, byte[] d, int o, int l) throws IOException { calls.step("put " + key); below.put(key, d, o, l); }
        public void delete(String key) throws IOException { calls.step("delete " + key); below.delete(key); }
        public List<String> list(String prefix, boolean r) throws IOException { return below.list(prefix, r); }
        public ObjectStore sibling(String name) throws IOException { return new FailingStore(below.sibling(name), calls); }
        public dev.ublkgateway.api.RetryPolicy retries() {
            return new dev.ublkgateway.api.RetryPolicy(1, java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(1), java.time.Duration.ZERO);
        }
        public void close() {}
    }

    /**
     * Clone and flatten stopped at each of their store writes in turn (as a crash would): afterwards both
     * volumes verify clean, the clone (when it exists) reads its data, the parent's gc removes a stale
     * record, and the parent's snapshot can be deleted exactly when no clone reads it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"clone", "flatten"})
    void cloneAndFlattenStoppedAtAnyStoreWriteLoseNothing(String op) throws Exception {
        int stops = 0;
        for (int failAt = 1; ; failAt++) {
            String pn = "p" + failAt, cn = "c" + failAt;
            calls = new Calls();
            base.tmp = tmp;
            Volume p = vol(pn);
            p.importFrom(base.sparseImage(), SIZE, x -> {});
            p.snapshot("s1", 1000);
            byte[] img = Arrays.copyOf(Files.readAllBytes(base.sparseImage()), (int) SIZE);
            byte[] want = img.clone();
            Volume c = vol(cn);
            if (op.equals("flatten")) {
                c.cloneFrom(pn, "s1");
                ChunkedTarget t = serve(cn, SIZE);
                byte[] fresh = ChunkedTargetTest.random(4096, 13);
                io.write(ChunkedTargetTest.queue(t), 8L * CHUNK, fresh, false);
                System.arraycopy(fresh, 0, want, 8 * CHUNK, 4096);
                t.close();
            }
            calls.calls = 0;
            calls.failAt = failAt;
            boolean failed = false;
            try {
                if (op.equals("clone")) c.cloneFrom(pn, "s1");
                else c.flatten(x -> {});
            } catch (IOException e) {
                failed = true;
                assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
            }
            calls.failAt = -1;
            storeOf(pn).delete(Lease.KEY);
            storeOf(cn).delete(Lease.KEY); // a process stopped mid-operation leaves its lease to be taken over
            String at = op + " stopped at store write " + failAt;
            Volume.VerifyReport r = p.verify(x -> {});
            assertTrue(r.clean(), at + ": parent " + r.damage());
            assertArrayEquals(img, export(p, "s1"), at);
            boolean exists = c.status().isPresent();
            if (exists) {
                r = c.verify(x -> {});
                assertTrue(r.clean(), at + ": clone " + r.damage());
                assertArrayEquals(want, export(c, null), at);
            } else {
                assertEquals("clone", op, at + ": a flatten never loses the clone");
            }
            p.gc(false);
            boolean reads = exists && c.lineage().parent() != null;
            assertEquals(reads ? List.of(cn + " (of s1)") : List.of(), p.lineage().clones(), at + ": the parent's records");
            if (reads) {
                assertThrows(IOException.class, () -> p.deleteSnapshot("s1"), at);
                c.flatten(x -> {});
            }
            p.deleteSnapshot("s1");
            if (exists) {
                assertArrayEquals(want, export(c, null), at);
                assertTrue(c.verify(x -> {}).clean(), at);
            }
            calls = null;
            if (!failed) break;
            stops++;
        }
        assertTrue(stops >= 2, op + " was stopped " + stops + " times");
    }
}
