package dev.ublkgateway.api;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Transforms a chunk on its way to and from an object store (compression, authenticated encryption).
 * Codecs are stacked in YAML order on the way out and applied in reverse on the way in. An instance is
 * used by one thread at a time.
 */
public interface ChunkCodec {
    /** Upper bound of {@link #encode}'s output for an input of {@code length} bytes. */
    int maxEncodedLength(int length);

    /**
     * Encodes {@code in} into {@code out} and returns the encoded length. {@code chunkIndex} identifies
     * the chunk within the volume (for binding, e.g. as authenticated data).
     */
    int encode(MemorySegment in, MemorySegment out, long chunkIndex) throws IOException;

    /**
     * Decodes {@code in} into {@code out} and returns the decoded length; throws on corrupt,
     * tampered or foreign data rather than returning wrong bytes.
     */
    int decode(MemorySegment in, MemorySegment out, long chunkIndex) throws IOException;
}
