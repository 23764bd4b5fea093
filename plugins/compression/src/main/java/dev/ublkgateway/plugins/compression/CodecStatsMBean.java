package dev.ublkgateway.plugins.compression;

/**
 * What a compression codec achieved on one device, readable over JMX as
 * {@code dev.ublkgateway:type=ChunkCodec,device=NAME,codec=zstd|lz4}.
 */
public interface CodecStatsMBean {
    /** Chunks encoded. */
    long getChunksEncoded();

    /** Of those, chunks stored raw because they did not shrink. */
    long getChunksStoredRaw();

    /** Bytes given to encode. */
    long getBytesIn();

    /** Bytes encode produced (headers included). */
    long getBytesOut();

    /** bytesIn / bytesOut; 1.0 before anything was encoded. */
    double getRatio();

    /** Chunks decoded. */
    long getChunksDecoded();

    /** Chunks that failed to decode (corrupt or foreign data). */
    long getDecodeErrors();
}
