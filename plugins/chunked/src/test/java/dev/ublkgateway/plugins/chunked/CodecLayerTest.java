package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.VolumeInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The codec chain as a layer: in YAML order on the way out, reversed on the way in; one chain per thread at a time. */
class CodecLayerTest {
    static final VolumeInfo INFO = new VolumeInfo(new byte[16], new byte[32]);
    final MapChunks below = new MapChunks();

    /** Appends its tag byte on encode; on decode, refuses input that does not end with it. */
    record Tag(byte tag) implements ChunkCodec {
        public int maxEncodedLength(int length) { return length + 1; }

        public int encode(MemorySegment in, MemorySegment out, long idx) {
            MemorySegment.copy(in, 0, out, 0, in.byteSize());
            out.set(ValueLayout.JAVA_BYTE, in.byteSize(), tag);
            return (int) in.byteSize() + 1;
        }

        public int decode(MemorySegment in, MemorySegment out, long idx) throws IOException {
            int n = (int) in.byteSize() - 1;
            if (in.get(ValueLayout.JAVA_BYTE, n) != tag) throw new IOException("not tagged " + tag);
            MemorySegment.copy(in, 0, out, 0, n);
            return n;
        }
    }

    static List<ChunkedTarget.CodecFactory> tags(int... tags) {
        List<ChunkedTarget.CodecFactory> l = new ArrayList<>();
        for (int t : tags) l.add(v -> new Tag((byte) t));
        return l;
    }

    @Test
    void codecsApplyInOrderOutAndInReverseBack() throws Exception {
        CodecLayer layer = new CodecLayer(below, tags(1, 2), INFO, 64);
        byte[] data = {10, 11, 12, 0, 0};
        layer.write(4, data, 3);
        assertArrayEquals(new byte[] {10, 11, 12, 1, 2}, below.chunks.get(4L), "first codec's output goes through the second");
        assertArrayEquals(new byte[] {10, 11, 12}, layer.read(4));
    }

    @Test
    void withoutCodecsChunksAreStoredAsTheyAre() throws Exception {
        CodecLayer layer = new CodecLayer(below, List.of(), INFO, 64);
        layer.write(0, new byte[] {1, 2, 3}, 2);
        assertArrayEquals(new byte[] {1, 2}, below.chunks.get(0L));
        assertArrayEquals(new byte[] {1, 2}, layer.read(0));
    }

    @Test
    void anObjectTheCodecsRefuseIsAnErrorNamingTheChunk() throws Exception {
        CodecLayer layer = new CodecLayer(below, tags(1, 2), INFO, 64);
        below.chunks.put(9L, new byte[] {5, 5, 1, 3});
        IOException e = assertThrows(IOException.class, () -> layer.read(9));
        assertEquals("chunk 9 cannot be decoded (not tagged 2)", e.getMessage());
    }

    @Test
    void missingChunksAndDeletesPassThrough() throws Exception {
        CodecLayer layer = new CodecLayer(below, tags(1), INFO, 64);
        assertNull(layer.read(2));
        layer.delete(2);
        assertEquals(List.of("read 2", "delete 2"), below.calls);
    }

    @Test
    void theVolumesOwnObjectsEncodeAndDecodeBesideTheChunks() throws Exception {
        CodecLayer layer = new CodecLayer(below, tags(7), INFO, 4);
        byte[] map = new byte[40];
        Arrays.fill(map, (byte) 3);
        byte[] enc = layer.encode(map, map.length, VolumeFormat.MAP_INDEX);
        assertEquals(41, enc.length);
        assertArrayEquals(map, layer.decode(enc, VolumeFormat.MAP_INDEX, map.length), "decoded beyond the chunks' maximum");
        assertEquals(List.of(), below.calls, "the store is not involved");
    }

    @Test
    void codecsAreCreatedPerConcurrentUserAndReused() throws Exception {
        AtomicInteger created = new AtomicInteger();
        CountDownLatch inside = new CountDownLatch(2), release = new CountDownLatch(1);
        ChunkedTarget.CodecFactory slow = v -> {
            created.incrementAndGet();
            return new Tag((byte) 1);
        };
        ChunkStore blocking = new MapChunks() {
            @Override
            public void write(long index, byte[] data, int length) {
                inside.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.write(index, data, length);
            }
        };
        CodecLayer layer = new CodecLayer(blocking, List.of(slow), INFO, 64);
        Thread a = Thread.ofVirtual().start(() -> write(layer, 0));
        Thread b = Thread.ofVirtual().start(() -> write(layer, 1));
        inside.await();
        assertEquals(2, created.get(), "two writers at once: two chains");
        release.countDown();
        a.join();
        b.join();
        for (int i = 0; i < 10; i++) write(layer, i);
        assertEquals(2, created.get(), "chains go back to the pool");
    }

    static void write(CodecLayer layer, long index) {
        try {
            layer.write(index, new byte[] {1}, 1);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
