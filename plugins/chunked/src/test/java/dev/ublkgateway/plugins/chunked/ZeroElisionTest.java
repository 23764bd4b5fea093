package dev.ublkgateway.plugins.chunked;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The top layer: an all-zero chunk becomes a delete; everything else passes through unchanged. */
class ZeroElisionTest {
    static final int CHUNK = 4096;
    final MapChunks below = new MapChunks();
    final ZeroElision layer = new ZeroElision(below, CHUNK);

    @Test
    void anAllZeroChunkIsDeletedNotStored() throws Exception {
        layer.write(3, new byte[CHUNK + 8], CHUNK);
        assertEquals(List.of("delete 3"), below.calls);
    }

    @Test
    void oneNonZeroByteIsStoredAsIs() throws Exception {
        byte[] data = new byte[CHUNK + 8];
        data[CHUNK - 1] = 7;
        layer.write(3, data, CHUNK);
        assertEquals(List.of("write 3 " + CHUNK), below.calls);
        assertArrayEquals(java.util.Arrays.copyOf(data, CHUNK), below.chunks.get(3L));
    }

    @Test
    void bytesPastTheChunkDoNotCount() throws Exception {
        byte[] data = new byte[CHUNK + 8];
        data[CHUNK] = 1; // room for the layers below, not part of the chunk
        layer.write(0, data, CHUNK);
        assertEquals(List.of("delete 0"), below.calls);
    }

    @Test
    void readsAndDeletesPassThrough() throws Exception {
        below.chunks.put(5L, new byte[] {1, 2});
        assertArrayEquals(new byte[] {1, 2}, layer.read(5));
        assertNull(layer.read(6));
        layer.delete(5);
        assertEquals(List.of("read 5", "read 6", "delete 5"), below.calls);
    }
}
