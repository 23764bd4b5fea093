package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * For each chunk, the generation of its stored object (0: no object, reads as zeros without asking the
 * store). Every stored chunk carries its generation inside the encoded data, so an object older than
 * the map says (a replayed one) is refused. Stored as object {@code map} at every flush.
 */
final class ChunkMap {
    static final String KEY = "map";
    private static final long MAGIC = 0x3150414d4b4e4843L; // "CHNKMAP1"

    private long[] gens;
    private long counter;
    private boolean dirty;

    /** The most chunks a volume can have: its map is stored as one object (8 bytes per chunk) in a Java array. */
    static final long MAX_CHUNKS = (Integer.MAX_VALUE - 64) / 8;

    ChunkMap(long chunks) {
        if (chunks < 0 || chunks > MAX_CHUNKS) throw new IllegalArgumentException("too many chunks: " + chunks);
        gens = new long[(int) chunks];
        counter = 1;
    }

    synchronized long get(long index) {
        return gens[(int) index];
    }

    synchronized void set(long index, long gen) {
        if (gens[(int) index] != gen) {
            gens[(int) index] = gen;
            dirty = true;
        }
    }

    /** Grows the map to {@code chunks} (never shrinks it); the new chunks have no object and read as zeros. */
    synchronized void grow(long chunks) {
        if (chunks > MAX_CHUNKS) throw new IllegalArgumentException("too many chunks: " + chunks);
        if (chunks <= gens.length) return;
        gens = java.util.Arrays.copyOf(gens, (int) chunks);
        dirty = true;
    }

    /** A generation newer than any the volume has used. */
    synchronized long next() {
        dirty = true;
        return ++counter;
    }

    synchronized boolean dirty() {
        return dirty;
    }

    synchronized int count() {
        return gens.length;
    }

    /** Serialized, and marked clean (call {@link #markDirty} if storing it fails). */
    synchronized byte[] snapshot() {
        ByteBuffer b = ByteBuffer.allocate(24 + 8 * gens.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC).putLong(counter).putLong(gens.length);
        for (long g : gens) b.putLong(g);
        dirty = false;
        return b.array();
    }

    synchronized void markDirty() {
        dirty = true;
    }

    synchronized void load(byte[] data, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data, 0, length).order(ByteOrder.LITTLE_ENDIAN);
        if (length < 24 || b.getLong() != MAGIC) throw new IOException("the chunk map object is damaged");
        long c = b.getLong();
        long n = b.getLong();
        // shorter: a volume grown but stopped before its map was stored again; the rest has no objects
        if (n > gens.length || length != 24 + 8 * n) throw new IOException("the chunk map object does not match the volume size");
        for (int i = 0; i < n; i++) gens[i] = b.getLong();
        // generations written after the map was last stored (before a crash) may exceed its counter
        counter = Math.max(c, System.currentTimeMillis() * 1000);
        dirty = false;
    }

    /** For a fresh volume: start generations at a time-based value so a recreated volume never reuses them. */
    synchronized void fresh() {
        counter = System.currentTimeMillis() * 1000;
    }
}
