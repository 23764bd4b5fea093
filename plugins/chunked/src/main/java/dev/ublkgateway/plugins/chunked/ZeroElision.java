package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.util.Arrays;

/** The top layer: an all-zero chunk is deleted instead of stored (a chunk without an object reads as zeros). */
final class ZeroElision implements ChunkStore {
    private final ChunkStore below;
    private final byte[] zeros;

    ZeroElision(ChunkStore below, int chunkSize) {
        this.below = below;
        this.zeros = new byte[chunkSize];
    }

    @Override
    public byte[] read(long index) throws IOException {
        return below.read(index);
    }

    @Override
    public void write(long index, byte[] data, int length) throws IOException {
        if (Arrays.equals(data, 0, length, zeros, 0, length)) below.delete(index);
        else below.write(index, data, length);
    }

    @Override
    public void delete(long index) throws IOException {
        below.delete(index);
    }
}
