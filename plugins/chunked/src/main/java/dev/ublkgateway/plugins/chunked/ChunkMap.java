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
    /** The counter of the stored map last loaded (0: none): a generation above it may be a write still in flight. */
    private long loadedCounter;

    synchronized long loadedCounter() {
        return loadedCounter;
    }

    /** Generations handed out whose chunk is not stored yet (see {@link #snapshot}). */
    private final java.util.TreeSet<Long> inFlight = new java.util.TreeSet<>();

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

    /** A generation newer than any the volume has used; in flight until {@link #swap} or {@link #release}. */
    synchronized long next() {
        dirty = true;
        inFlight.add(++counter);
        return counter;
    }

    /** Records {@code gen} (stored now) as the chunk's and returns the generation it replaces. */
    synchronized long swap(long index, long gen) {
        long old = gens[(int) index];
        inFlight.remove(gen);
        if (old != gen) {
            gens[(int) index] = gen;
            dirty = true;
        }
        return old;
    }

    /** A generation from {@link #next} that will not be recorded (its store failed). */
    synchronized void release(long gen) {
        inFlight.remove(gen);
    }

    /** The counter stored with the map (see {@link #snapshot}). */
    synchronized long storedCounter() {
        return inFlight.isEmpty() ? counter : inFlight.first() - 1;
    }

    /** A copy of every chunk's generation. */
    synchronized long[] gens() {
        return gens.clone();
    }

    /** Makes {@code g} the chunks' generations (a rollback); the counter stays, so generations never repeat. */
    synchronized void restore(long[] g) {
        // shorter: a snapshot taken before the volume grew; the chunks added since have no object then
        if (g.length > gens.length) throw new IllegalArgumentException("map sizes differ");
        System.arraycopy(g, 0, gens, 0, g.length);
        java.util.Arrays.fill(gens, g.length, gens.length, 0L);
        dirty = true;
    }

    synchronized boolean dirty() {
        return dirty;
    }

    synchronized int count() {
        return gens.length;
    }

    /**
     * Serialized, and marked clean (call {@link #markDirty} if storing it fails). The stored counter is
     * below every generation still in flight, so a generation at or below a stored map's counter that
     * this map does not list is never listed by a later map of the volume (what {@code gc} relies on).
     */
    synchronized byte[] snapshot() {
        ByteBuffer b = ByteBuffer.allocate(24 + 8 * gens.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC).putLong(storedCounter()).putLong(gens.length);
        for (long g : gens) b.putLong(g);
        dirty = false;
        return b.array();
    }

    synchronized void markDirty() {
        dirty = true;
    }

    /** A stored map: its counter and generations. */
    record Stored(long counter, long[] gens) {}

    /** Parses a stored map of {@code chunks} chunks ({@link #snapshot}'s layout). */
    static Stored parse(byte[] data, int offset, int length, long chunks) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data, offset, length).order(ByteOrder.LITTLE_ENDIAN);
        if (length < 24 || b.getLong() != MAGIC) throw new IOException("the chunk map object is damaged");
        long c = b.getLong();
        long n = b.getLong();
        // shorter: a volume grown but stopped before its map was stored again (or a snapshot taken before
        // the volume grew); the rest has no objects
        if (n > chunks || length != 24 + 8 * n) throw new IOException("the chunk map object does not match the volume size");
        long[] g = new long[(int) chunks];
        for (int i = 0; i < n; i++) g[i] = b.getLong();
        return new Stored(c, g);
    }

    synchronized void load(byte[] data, int length) throws IOException {
        Stored s = parse(data, 0, length, gens.length);
        long c = s.counter();
        loadedCounter = c;
        System.arraycopy(s.gens(), 0, gens, 0, gens.length);
        // generations written after the map was last stored (before a crash) may exceed its counter
        counter = Math.max(c, System.currentTimeMillis() * 1000);
        dirty = false;
    }

    /** For a fresh volume: start generations at a time-based value so a recreated volume never reuses them. */
    synchronized void fresh() {
        counter = System.currentTimeMillis() * 1000;
    }
}
