package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ProviderContext;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.api.Volume;
import dev.ublkgateway.api.VolumeInfo;
import dev.ublkgateway.plugins.chunked.store.DirectoryStore;
import dev.ublkgateway.plugins.chunked.store.MemoryStore;
import dev.ublkgateway.plugins.chunked.store.MemoryStoreConfig;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Offline volume operations on the directory and the memory store: create, status, delete; a sparse image
 * imported, exported and served back byte for byte, with only its non-zero chunks stored; verify finding a
 * corrupt and a missing chunk by offset.
 */
class ChunkedVolumeTest {
    static final int CHUNK = 64 * 1024;
    record NoOptions() {}
    private record Spec(String kind, String type, Record config, int line, int column) implements NestedSpec {}

    @TempDir
    Path tmp;
    ObjectStore store;
    final List<Long> progress = new ArrayList<>();

    /** The store under test: "memory" or "directory". */
    ObjectStore store(String kind) throws IOException {
        if (store == null) store = kind.equals("memory") ? new MemoryStore() : new DirectoryStore(tmp.resolve("store/vol"), true);
        return store;
    }

    /** A context whose codec is a checksummed XOR with {@code key} (a different key fails the key check). */
    ProviderContext context(String kind, byte key) throws IOException {
        ObjectStore s = store(kind);
        return new ProviderContext() {
            public ObjectStore openStore(NestedSpec spec) {
                return s;
            }

            public ChunkCodec createCodec(NestedSpec c, DeviceDescriptor d, VolumeInfo v) {
                return new ChunkedTargetTest.XorCodec(key);
            }

            public boolean forceTakeover() {
                return false;
            }
        };
    }

    /** The volume's current data, or a snapshot's, through export into a file under {@code tmp}. */
    static byte[] export(Path tmp, Volume v, String snapshot) throws IOException {
        Path out = tmp.resolve("out-" + System.nanoTime() + ".img");
        if (snapshot == null) v.exportTo(out, x -> {});
        else v.exportSnapshotTo(snapshot, out, x -> {});
        byte[] b = Files.readAllBytes(out);
        Files.delete(out);
        return b;
    }

    static ChunkedTargetConfig config() {
        return new ChunkedTargetConfig(Size.of(CHUNK), Size.of(Size.MiB), 2, 0, 0,
                List.of(new Spec("codec", "xor", new NoOptions(), 1, 1)), new Spec("store", "memory", new MemoryStoreConfig(null), 1, 1));
    }

    Volume volume(String kind, byte key) throws IOException {
        return new ChunkedTargetProvider().volume(config(), "vol", context(kind, key));
    }

    List<String> chunkKeys() throws IOException {
        return store.list("chunks/", true);
    }

    /** A sparse image of 40 chunks and a half: data in chunks 0, 7 (4 KiB of it), 8 and the last, half one. */
    Path sparseImage() throws IOException {
        Path img = tmp.resolve("in.img");
        byte[] b = new byte[40 * CHUNK + CHUNK / 2];
        Random r = new Random(42);
        fill(r, b, 0, CHUNK);
        fill(r, b, 7L * CHUNK + 8192, 4096);
        fill(r, b, 8L * CHUNK, CHUNK);
        fill(r, b, 40L * CHUNK, 1000);
        Files.write(img, b);
        return img;
    }

    private static void fill(Random r, byte[] b, long off, int n) {
        byte[] x = new byte[n];
        r.nextBytes(x);
        System.arraycopy(x, 0, b, (int) off, n);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void createDescribeDelete(String kind) throws Exception {
        long before = System.currentTimeMillis();
        try (Volume v = volume(kind, (byte) 3)) {
            assertTrue(v.status().isEmpty(), "an empty store holds no volume");
            Volume.VolumeStatus s = v.create(5 * Size.MiB);
            assertEquals(5 * Size.MiB, s.sizeBytes());
            assertEquals(CHUNK, s.chunkBytes());
            assertEquals(List.of("xor"), s.codecs());
            assertEquals(0, s.storedChunks());
            assertNull(s.servedBy(), "create releases the lease");
            assertTrue(s.createdMillis() >= before && s.createdMillis() <= System.currentTimeMillis(), "created " + s.createdMillis());
            assertEquals(32, s.volumeId().length());
            IOException again = assertThrows(IOException.class, () -> v.create(Size.MiB));
            assertEquals("volume vol already exists in this store; delete it first (ublk-gateway volume delete) or choose another name",
                    again.getMessage());
            v.delete();
            assertTrue(v.status().isEmpty());
            assertEquals(List.of(), store.list("", true), "delete leaves no object");
            IOException gone = assertThrows(IOException.class, v::delete);
            assertTrue(gone.getMessage().startsWith("no volume vol in this store"), gone.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void aSparseImageRoundTripsAndServes(String kind) throws Exception {
        Path img = sparseImage();
        long size = 41L * CHUNK;
        try (Volume v = volume(kind, (byte) 3)) {
            long stored = v.importFrom(img, size, progress::add);
            assertEquals(4, stored, "only the chunks with data are stored");
            assertEquals(4, chunkKeys().size(), "and the store holds just those: " + chunkKeys());
            assertEquals(0L, progress.getLast(), "progress ends with nothing left");
            assertEquals(Files.size(img), progress.getFirst(), "and starts with the image's size");
            IOException exists = assertThrows(IOException.class, () -> v.importFrom(img, size, x -> {}));
            assertTrue(exists.getMessage().startsWith("volume vol already exists"), exists.getMessage());

            Path out = tmp.resolve("out.img");
            v.exportTo(out, x -> {});
            byte[] want = java.util.Arrays.copyOf(Files.readAllBytes(img), (int) size);
            assertArrayEquals(want, Files.readAllBytes(out), "the export is the image, padded with zeros to the volume's size");
            IOException again = assertThrows(IOException.class, () -> v.exportTo(out, x -> {}));
            assertTrue(again.getMessage().contains("exists; remove it or name a new file"), again.getMessage());
            assertTrue(v.verify(x -> {}).clean());
        }
        // the live target serves what was imported
        ChunkedTargetTest helper = new ChunkedTargetTest();
        DeviceDescriptor d = new DeviceDescriptor("vol", size, 4096, 1, 32, 512 * 1024);
        ChunkedTarget t = ChunkedTarget.open(config(), d, false, store, List.of("xor"), List.of(v -> new ChunkedTargetTest.XorCodec((byte) 3)));
        try {
            TargetQueue q = ChunkedTargetTest.queue(t);
            byte[] want = Files.readAllBytes(img);
            for (long off = 0; off < size; off += 4 * CHUNK) {
                int n = (int) Math.min(4 * CHUNK, size - off);
                ChunkedTargetTest.Req r = helper.new Req(BlockOp.READ, 0, off, n);
                assertEquals(n, r.run(q));
                for (int i = 0; i < n; i++) {
                    byte expect = off + i < want.length ? want[(int) (off + i)] : 0;
                    if (r.buf.get(ValueLayout.JAVA_BYTE, i) != expect) fail("byte " + (off + i) + " differs when served");
                }
            }
        } finally {
            t.close();
            helper.arena.close();
        }
    }

    /** An image in memory, as an NBD export would be: counts zero writes and flushes. */
    static final class MemImage implements dev.ublkgateway.api.BlockImage {
        final byte[] data;
        int zeroWrites, flushes;
        Runnable onRead = () -> {};

        MemImage(byte[] data) {
            this.data = data;
        }

        public String name() { return "mem://image"; }
        public long size() { return data.length; }
        public boolean writable() { return true; }
        public void read(long offset, byte[] buf, int length) {
            onRead.run();
            System.arraycopy(data, (int) offset, buf, 0, length);
        }
        public void write(long offset, byte[] buf, int length) { System.arraycopy(buf, 0, data, (int) offset, length); }
        public synchronized void writeZeroes(long offset, int length) {
            java.util.Arrays.fill(data, (int) offset, (int) offset + length, (byte) 0);
            zeroWrites++;
        }
        public synchronized void flush() { flushes++; }
        public void close() {}
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void importsFromAndExportsToABlockImage(String kind) throws Exception {
        byte[] img = Files.readAllBytes(sparseImage());
        long size = 41L * CHUNK;
        MemImage in = new MemImage(java.util.Arrays.copyOf(img, (int) size));
        java.util.concurrent.atomic.AtomicBoolean markedWhileRunning = new java.util.concurrent.atomic.AtomicBoolean();
        in.onRead = () -> {
            try {
                if (new String(store.get(VolumeMeta.KEY).orElseThrow(), StandardCharsets.UTF_8).contains("import=incomplete")) {
                    markedWhileRunning.set(true);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try (Volume v = volume(kind, (byte) 3)) {
            assertEquals(4, v.importFrom(in, -1, x -> {}));
            assertTrue(markedWhileRunning.get(), "the metadata says the import is under way while it runs");
            assertFalse(new String(store.get(VolumeMeta.KEY).orElseThrow(), StandardCharsets.UTF_8).contains("import"),
                    "and not once it finished");
            assertFalse(v.status().orElseThrow().incompleteImport());
            MemImage small = new MemImage(new byte[CHUNK]);
            IOException tooSmall = assertThrows(IOException.class, () -> v.exportTo(small, x -> {}));
            assertEquals("mem://image is 64 KiB, smaller than volume vol (2.56 MiB); use a larger export", tooSmall.getMessage());
            byte[] junk = new byte[(int) size + CHUNK];
            java.util.Arrays.fill(junk, (byte) 0x5a);
            MemImage out = new MemImage(junk);
            v.exportTo(out, x -> {});
            assertArrayEquals(in.data, java.util.Arrays.copyOf(out.data, (int) size), "chunks without data are written as zeros");
            assertEquals(37, out.zeroWrites, "as zero writes, one per chunk without data");
            assertEquals(1, out.flushes, "the export is flushed at the end");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void aKilledImportLeavesAVolumeThatSaysSo(String kind) throws Exception {
        Path img = sparseImage();
        long size = 41L * CHUNK;
        try (Volume v = volume(kind, (byte) 3)) {
            v.importFrom(img, size, x -> {});
            // what a kill -9 half-way leaves: the metadata still marked, a map that may lack chunks
            VolumeMeta m = VolumeMeta.parse(store.get(VolumeMeta.KEY).orElseThrow());
            byte[] marked = m.importing(true).toBytes();
            store.put(VolumeMeta.KEY, marked, 0, marked.length);
            store.delete(ChunkMap.KEY);
            assertTrue(v.status().orElseThrow().incompleteImport());
            String want = "volume vol: incomplete import (the import that created it stopped before it finished); delete it"
                    + " (ublk-gateway volume delete) and import again";
            assertEquals(want, assertThrows(IOException.class, () -> v.exportTo(tmp.resolve("x.img"), x -> {})).getMessage());
            assertFalse(Files.exists(tmp.resolve("x.img")));
            assertEquals(want, assertThrows(IOException.class, () -> v.verify(x -> {})).getMessage());
            DeviceDescriptor d = new DeviceDescriptor("vol", size, 4096, 1, 32, 512 * 1024);
            assertEquals(want, assertThrows(IOException.class, () -> ChunkedTarget.open(config(), d, false, store, List.of("xor"),
                    List.of(x -> new ChunkedTargetTest.XorCodec((byte) 3)))).getMessage(), "up refuses it");
            assertTrue(assertThrows(IOException.class, () -> v.importFrom(img, size, x -> {})).getMessage().contains("already exists"));
            v.delete();
            assertEquals(List.of(), store.list("", true));
            v.importFrom(img, size, x -> {});
            Path out = tmp.resolve("out.img");
            v.exportTo(out, x -> {});
            assertArrayEquals(java.util.Arrays.copyOf(Files.readAllBytes(img), (int) size), Files.readAllBytes(out));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void verifyFindsCorruptAndMissingChunksByOffset(String kind) throws Exception {
        try (Volume v = volume(kind, (byte) 3)) {
            v.importFrom(sparseImage(), 41L * CHUNK, x -> {});
            String seven = Chunks.key(chunkKeys(), 7), eight = Chunks.key(chunkKeys(), 8);
            byte[] obj = store.get(seven).orElseThrow();
            obj[100] ^= 1;
            store.put(seven, obj, 0, obj.length);
            store.delete(eight);
            Volume.VerifyReport r = v.verify(progress::add);
            assertFalse(r.clean());
            assertEquals(41, r.chunks());
            assertEquals(3, r.stored());
            assertEquals(2, r.damage().size(), r.damage().toString());
            Volume.Damage corrupt = r.damage().get(0), missing = r.damage().get(1);
            assertEquals(7, corrupt.chunk());
            assertEquals(7L * CHUNK, corrupt.offset());
            assertTrue(corrupt.problem().contains("checksum mismatch"), corrupt.problem());
            assertEquals(8, missing.chunk());
            assertEquals(8L * CHUNK, missing.offset());
            assertTrue(missing.problem().startsWith("missing"), missing.problem());
            assertEquals(0L, progress.getLast());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void aServedVolumeAndAWrongKeyAreRefused(String kind) throws Exception {
        try (Volume v = volume(kind, (byte) 3)) {
            v.create(Size.MiB);
        }
        try (Volume wrong = volume(kind, (byte) 4)) {
            IOException e = assertThrows(IOException.class, () -> wrong.verify(x -> {}));
            assertEquals("volume vol: the key (or codec settings) does not match the one the volume was created with; use the original key",
                    e.getMessage());
            assertThrows(IOException.class, () -> wrong.exportTo(tmp.resolve("w.img"), x -> {}));
            assertFalse(Files.exists(tmp.resolve("w.img")), "a refused export leaves no file");
        }
        byte[] live = ("owner=otherhost:42:abc\nheartbeat=" + System.currentTimeMillis() + "\n").getBytes(StandardCharsets.UTF_8);
        store.put(Lease.KEY, live, 0, live.length);
        try (Volume v = volume(kind, (byte) 3)) {
            assertTrue(v.status().orElseThrow().servedBy().startsWith("gateway otherhost:42:abc, heartbeat"));
            for (org.junit.jupiter.api.function.Executable op : List.<org.junit.jupiter.api.function.Executable>of(
                    v::delete, () -> v.exportTo(tmp.resolve("x.img"), x -> {}), () -> v.verify(x -> {}))) {
                IOException e = assertThrows(IOException.class, op);
                assertTrue(e.getMessage().startsWith("volume vol is in use by gateway otherhost:42:abc"), e.getMessage());
            }
            assertTrue(v.status().isPresent(), "nothing was deleted");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "directory"})
    void listingShowsOneLevelOrEverything(String kind) throws Exception {
        ObjectStore s = store(kind);
        for (String k : List.of("a", "b/c", "b/d/e", "f/g")) s.put(k, new byte[] {1}, 0, 1);
        assertEquals(List.of("a", "b/", "f/"), s.list("", false).stream().sorted().toList());
        assertEquals(List.of("b/c", "b/d/"), s.list("b/", false).stream().sorted().toList());
        assertEquals(List.of("b/c", "b/d/e"), s.list("b/", true).stream().sorted().toList());
        s.delete("b/d/e");
        assertEquals(List.of("b/c"), s.list("b/", true));
    }
}
