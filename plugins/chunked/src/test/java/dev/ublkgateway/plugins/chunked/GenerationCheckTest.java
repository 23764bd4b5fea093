package dev.ublkgateway.plugins.chunked;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Generations: appended on write, recorded in the map, checked on read; the map alone answers for holes. */
class GenerationCheckTest {
    static final int CHUNK = 4096;
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    final MapChunks below = new MapChunks();
    final ChunkMap map = new ChunkMap(16);
    final GenerationCheck layer = new GenerationCheck(below, map, CHUNK, "v");

    GenerationCheckTest() {
        map.fresh();
    }

    static byte[] chunk(int fill) {
        byte[] b = new byte[CHUNK + GenerationCheck.TRAILER];
        java.util.Arrays.fill(b, 0, CHUNK, (byte) fill);
        return b;
    }

    static long trailer(byte[] frame) {
        return MemorySegment.ofArray(frame).get(LONG_LE, CHUNK);
    }

    @Test
    void aWriteAppendsANewGenerationAndRecordsIt() throws Exception {
        layer.write(2, chunk(1), CHUNK);
        byte[] stored = below.chunks.get(2L);
        assertEquals(CHUNK + 8, stored.length);
        assertEquals(map.get(2), trailer(stored));
        long first = map.get(2);
        layer.write(2, chunk(2), CHUNK);
        assertTrue(map.get(2) > first, "each write gets a newer generation");
        assertEquals(map.get(2), trailer(below.chunks.get(2L)));
    }

    @Test
    void readReturnsTheFrameWithItsGeneration() throws Exception {
        layer.write(1, chunk(9), CHUNK);
        byte[] frame = layer.read(1);
        assertEquals(CHUNK + 8, frame.length);
        assertEquals(9, frame[CHUNK - 1]);
        assertEquals(map.get(1), trailer(frame));
    }

    @Test
    void aChunkTheMapDoesNotListIsNotAskedFor() throws Exception {
        below.chunks.put(4L, chunk(5)); // an object the map does not know of
        assertNull(layer.read(4));
        assertEquals(List.of(), below.calls);
    }

    @Test
    void anOlderObjectIsRefused() throws Exception {
        layer.write(0, chunk(1), CHUNK);
        byte[] old = below.chunks.get(0L);
        layer.write(0, chunk(2), CHUNK);
        below.chunks.put(0L, old); // replayed
        IOException e = assertThrows(IOException.class, () -> layer.read(0));
        assertTrue(e.getMessage().startsWith("chunk 0 is older than the chunk map says (generation "), e.getMessage());
        assertTrue(e.getMessage().endsWith("): a replayed or stale object"), e.getMessage());
    }

    @Test
    void aFrameOfTheWrongLengthIsRefused() throws Exception {
        layer.write(3, chunk(1), CHUNK);
        below.chunks.put(3L, new byte[100]);
        IOException e = assertThrows(IOException.class, () -> layer.read(3));
        assertEquals("chunk 3 decodes to 100 bytes, not " + (CHUNK + 8), e.getMessage());
    }

    @Test
    void aMissingObjectTheMapListsReadsAsZeros() throws Exception {
        layer.write(6, chunk(1), CHUNK);
        below.chunks.remove(6L);
        assertNull(layer.read(6));
    }

    @Test
    void deleteReachesTheStoreOnlyForStoredChunks() throws Exception {
        layer.delete(7);
        assertEquals(List.of(), below.calls, "nothing stored, nothing to delete");
        layer.write(7, chunk(1), CHUNK);
        layer.delete(7);
        assertEquals(List.of("write 7 " + (CHUNK + 8), "delete 7"), below.calls);
        assertEquals(0, map.get(7));
        assertTrue(map.dirty());
    }
}
