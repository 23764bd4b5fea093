package dev.ublkgateway.plugins.chunked;

import java.io.IOException;

/**
 * A volume's chunks as one layer of its storage sees them. Layers are stacked, each one wrapping the
 * layer below and doing one job (s3backer's way): {@link ZeroElision} over {@link GenerationCheck} over
 * {@link CodecLayer} over {@link StoreLayer}, which talks to the object store. Calls block and may come
 * from many threads at once, for different chunks.
 */
interface ChunkStore {
    /** The chunk's bytes as this layer hands them up, or null when the chunk has no object (it reads as zeros). */
    byte[] read(long index) throws IOException;

    /**
     * Stores {@code data[0, length)} as the chunk. A layer may change {@code data} in place; the buffer
     * has room for what the layers below append (see {@link GenerationCheck}).
     */
    void write(long index, byte[] data, int length) throws IOException;

    /** Removes the chunk's object; the chunk reads as zeros afterwards. */
    void delete(long index) throws IOException;

    /**
     * As {@link #read(long)}, the chunk's object of generation {@code gen}: in a format 2 volume each
     * generation of a chunk is an object of its own ({@link StoreLayer#key(long, long)}). Layers that do
     * not care about generations pass it on.
     */
    default byte[] read(long index, long gen) throws IOException {
        return read(index);
    }

    /** As {@link #write(long, byte[], int)}, as generation {@code gen}. */
    default void write(long index, long gen, byte[] data, int length) throws IOException {
        write(index, data, length);
    }

    /** As {@link #delete(long)}, the object of generation {@code gen}. */
    default void delete(long index, long gen) throws IOException {
        delete(index);
    }
}
