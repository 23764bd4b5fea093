package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.logging.Logger;

/**
 * Appends a new generation (8 bytes, little-endian) to each chunk it stores and records it in the
 * {@link ChunkMap}; on the way back, refuses an object whose generation is older than the map's (a
 * replayed or stale object). A chunk the map lists as 0 has no object and is not asked for. Buffers
 * written through this layer have 8 bytes of room after the chunk.
 */
final class GenerationCheck implements ChunkStore {
    private static final Logger LOG = Logger.getLogger(GenerationCheck.class.getName());
    static final int TRAILER = 8;
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ChunkStore below;
    private final ChunkMap map;
    private final int chunkSize;
    private final String volume;

    GenerationCheck(ChunkStore below, ChunkMap map, int chunkSize, String volume) {
        this.below = below;
        this.map = map;
        this.chunkSize = chunkSize;
        this.volume = volume;
    }

    /** The chunk with its trailer ({@code chunkSize + 8} bytes), or null when it has no object. */
    @Override
    public byte[] read(long index) throws IOException {
        long gen = map.get(index);
        if (gen == 0) return null;
        byte[] frame = below.read(index);
        if (frame == null) {
            LOG.warning("volume " + volume + ": chunk " + index + " is missing from the store although the chunk map lists it;"
                    + " reading zeros (a write was lost before its flush, or the object was deleted)");
            return null;
        }
        if (frame.length != chunkSize + TRAILER) {
            throw new IOException("chunk " + index + " decodes to " + frame.length + " bytes, not " + (chunkSize + TRAILER));
        }
        long stored = MemorySegment.ofArray(frame).get(LONG_LE, chunkSize);
        if (stored < gen) {
            throw new IOException("chunk " + index + " is older than the chunk map says (generation " + stored + " < " + gen
                    + "): a replayed or stale object");
        }
        return frame;
    }

    @Override
    public void write(long index, byte[] data, int length) throws IOException {
        long gen = map.next();
        MemorySegment.ofArray(data).set(LONG_LE, length, gen);
        below.write(index, data, length + TRAILER);
        map.set(index, gen);
    }

    @Override
    public void delete(long index) throws IOException {
        if (map.get(index) == 0) return;
        below.delete(index);
        map.set(index, 0);
    }
}
