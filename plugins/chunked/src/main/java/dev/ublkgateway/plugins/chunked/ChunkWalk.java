package dev.ublkgateway.plugins.chunked;

/**
 * Walks a byte range of the volume chunk by chunk: after each {@link #next}, the piece {@code [done,
 * done + n)} of the range is bytes {@code [pos, pos + n)} of chunk {@code index}. Reads, writes,
 * discards, write-zeroes and extents all walk this way. A walk is reused by one thread (the queue
 * thread keeps one), so walking allocates nothing.
 */
final class ChunkWalk {
    private final int chunkSize;
    private long offset, length;
    /** The current piece: the chunk, the piece's start within it, its length, and the bytes before it. */
    long index, done;
    int pos, n;

    ChunkWalk(int chunkSize) {
        this.chunkSize = chunkSize;
    }

    /** Starts walking {@code length} bytes from {@code offset}. */
    ChunkWalk over(long offset, long length) {
        this.offset = offset;
        this.length = length;
        this.done = 0;
        this.n = 0;
        return this;
    }

    /** Moves to the next piece; false when the range is done. */
    boolean next() {
        done += n;
        if (done >= length) return false;
        long at = offset + done;
        index = at / chunkSize;
        pos = (int) (at % chunkSize);
        n = (int) Math.min(length - done, chunkSize - pos);
        return true;
    }

    /** True when the piece is the whole chunk. */
    boolean whole() {
        return n == chunkSize;
    }
}
