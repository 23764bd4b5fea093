package dev.ublkgateway.plugins.chunked;

import java.io.IOException;

/**
 * A clone's chunks: one it has no object for (generation 0 in {@code map}) reads from its parent's snapshot
 * ({@link CloneSource}); writes store the clone's own objects. Discarding a chunk the parent has data for
 * stores an all-zero object, since no object would read the parent's again. Sits between
 * {@link ZeroElision} and {@link GenerationCheck}.
 */
final class CloneLayer implements ChunkStore {
    private final ChunkStore below;
    private final ChunkMap map;
    private final CloneSource source;
    private final int chunkSize;

    CloneLayer(ChunkStore below, ChunkMap map, CloneSource source, int chunkSize) {
        this.below = below;
        this.map = map;
        this.source = source;
        this.chunkSize = chunkSize;
    }

    @Override
    public byte[] read(long index) throws IOException {
        if (map.get(index) != 0 || !source.has(index)) return below.read(index);
        return source.read(index);
    }

    @Override
    public void write(long index, byte[] data, int length) throws IOException {
        below.write(index, data, length);
    }

    @Override
    public void delete(long index) throws IOException {
        if (!source.has(index)) {
            below.delete(index);
            return;
        }
        below.write(index, new byte[chunkSize + GenerationCheck.TRAILER], chunkSize);
    }
}
