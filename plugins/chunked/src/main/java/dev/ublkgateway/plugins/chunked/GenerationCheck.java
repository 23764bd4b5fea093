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
 *
 * <p>In a format 2 volume each generation is an object of its own: the object read must carry exactly
 * the generation its name says (so a renamed object is refused), and an object a write or discard
 * replaces is handed to {@code superseded}, which deletes it once a stored map no longer lists it.
 */
final class GenerationCheck implements ChunkStore {
    private static final Logger LOG = Logger.getLogger(GenerationCheck.class.getName());
    static final int TRAILER = 8;
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ChunkStore below;
    private final ChunkMap map;
    private final int chunkSize;
    private final String volume;
    private final int format;
    private final Superseded superseded;

    /** Receives the objects that writes replace (format 2). */
    interface Superseded {
        void add(long index, long gen);
    }

    GenerationCheck(ChunkStore below, ChunkMap map, int chunkSize, String volume) {
        this(below, map, chunkSize, volume, 1, (i, g) -> {});
    }

    GenerationCheck(ChunkStore below, ChunkMap map, int chunkSize, String volume, int format, Superseded superseded) {
        this.below = below;
        this.map = map;
        this.chunkSize = chunkSize;
        this.volume = volume;
        this.format = format;
        this.superseded = superseded;
    }

    /** The chunk with its trailer ({@code chunkSize + 8} bytes), or null when it has no object. */
    @Override
    public byte[] read(long index) throws IOException {
        long gen = map.get(index);
        if (gen == 0) return null;
        byte[] frame = below.read(index, gen);
        if (frame == null && format >= 2 && map.get(index) != gen) {
            // replaced (and its object reclaimed) while this read ran: read the new one
            gen = map.get(index);
            if (gen == 0) return null;
            frame = below.read(index, gen);
        }
        if (frame == null) {
            LOG.warning("volume " + volume + ": chunk " + index + " is missing from the store although the chunk map lists it;"
                    + " reading zeros (a write was lost before its flush, or the object was deleted)");
            return null;
        }
        if (frame.length != chunkSize + TRAILER) {
            throw new IOException("chunk " + index + " decodes to " + frame.length + " bytes, not " + (chunkSize + TRAILER));
        }
        long stored = MemorySegment.ofArray(frame).get(LONG_LE, chunkSize);
        if (format >= 2 && stored != gen) {
            throw new IOException("chunk " + index + ": its object for generation " + gen + " holds generation " + stored
                    + ": a renamed or replaced object");
        }
        if (stored < gen) {
            throw new IOException("chunk " + index + " is older than the chunk map says (generation " + stored + " < " + gen
                    + "): a replayed or stale object");
        }
        return frame;
    }

    @Override
    public void write(long index, byte[] data, int length) throws IOException {
        long gen = map.next();
        boolean ok = false;
        try {
            MemorySegment.ofArray(data).set(LONG_LE, length, gen);
            below.write(index, gen, data, length + TRAILER);
            ok = true;
        } finally {
            if (!ok) map.release(gen);
        }
        long old = map.swap(index, gen);
        if (format >= 2 && old != 0) superseded.add(index, old);
    }

    @Override
    public void delete(long index) throws IOException {
        if (map.get(index) == 0) return;
        if (format >= 2) {
            // the object goes once a stored map no longer lists it
            long old = map.swap(index, 0);
            if (old != 0) superseded.add(index, old);
            return;
        }
        below.delete(index);
        map.swap(index, 0);
    }
}
