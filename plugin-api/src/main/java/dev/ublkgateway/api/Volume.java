package dev.ublkgateway.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * One volume of a target that keeps its data in a store of its own (the {@code chunked} target), for
 * the operations that run while no gateway serves it: create, describe, delete, import a raw image,
 * export one, verify. Operations that change or read every chunk hold the volume's lease, so a gateway
 * serving it refuses them and no gateway starts on it meanwhile. Failures are {@link IOException}s with a
 * one-line message naming the problem and the fix. Progress callbacks receive the bytes left and may be
 * called from several threads. (Since API 1.6.)
 */
public interface Volume extends AutoCloseable {
    /** What the volume's metadata says, or empty when the store holds no volume. */
    Optional<VolumeStatus> status() throws IOException;

    /** Creates an empty volume of {@code sizeBytes}; refuses a store that already holds a volume. */
    VolumeStatus create(long sizeBytes) throws IOException;

    /** Removes every object of the volume; refuses a volume a gateway serves. */
    void delete() throws IOException;

    /**
     * Creates the volume with {@code sizeBytes} (-1: the source's length rounded up to 4 KiB) and stores
     * {@code source} (a raw image file or block device, at most that long) into it; all-zero chunks are not
     * stored. Refuses an existing volume.
     *
     * @return the chunks stored
     */
    long importFrom(Path source, long sizeBytes, LongConsumer bytesLeft) throws IOException;

    /**
     * Writes the volume to {@code dest}: a new regular file (chunks without data are left as holes) or a
     * block device (they are written as zeros). Refuses a volume a gateway serves.
     */
    void exportTo(Path dest, LongConsumer bytesLeft) throws IOException;

    /**
     * As {@link #importFrom(Path, long, LongConsumer)}, from an image outside the file system (an NBD export).
     * (Since API 1.8; a target that does not implement it refuses.)
     */
    default long importFrom(BlockImage source, long sizeBytes, LongConsumer bytesLeft) throws IOException {
        throw new IOException("this target's volumes cannot be imported from " + source.name() + "; copy it to a file first");
    }

    /**
     * As {@link #exportTo(Path, LongConsumer)}, into an existing image outside the file system (an NBD export) at
     * least as large as the volume; chunks without data are written as zeros, and the image is flushed at the end.
     * (Since API 1.8; a target that does not implement it refuses.)
     */
    default void exportTo(BlockImage dest, LongConsumer bytesLeft) throws IOException {
        throw new IOException("this target's volumes cannot be exported to " + dest.name() + "; export to a file first");
    }

    /** As {@link #exportSnapshotTo(String, Path, LongConsumer)}, into an image outside the file system. (Since API 1.8.) */
    default void exportSnapshotTo(String snapshot, BlockImage dest, LongConsumer bytesLeft) throws IOException {
        throw new IOException("this target's volumes cannot export snapshots to " + dest.name() + "; export to a file first");
    }

    /** Reads every object of the volume and checks it; damage is reported, not thrown. */
    VerifyReport verify(LongConsumer bytesLeft) throws IOException;

    /**
     * Takes snapshot {@code snapshot}: an immutable, crash-consistent copy of the volume's chunk map. On a
     * volume a gateway serves, that gateway takes it (after a FLUSH barrier); this call waits at most
     * {@code waitMillis} for it. (Since API 1.7; a target without snapshots refuses.)
     */
    default SnapshotInfo snapshot(String snapshot, long waitMillis) throws IOException {
        throw new IOException("this target's volumes have no snapshots");
    }

    /** The volume's snapshots, oldest first. (Since API 1.7.) */
    default List<SnapshotInfo> snapshots() throws IOException {
        throw new IOException("this target's volumes have no snapshots");
    }

    /** Makes the volume's data the snapshot's (refused while a gateway serves it); the snapshot stays. (Since API 1.7.) */
    default void rollback(String snapshot) throws IOException {
        throw new IOException("this target's volumes have no snapshots");
    }

    /**
     * Deletes the snapshot and the objects only it referenced.
     *
     * @return the objects deleted (the snapshot's own included)
     */
    default long deleteSnapshot(String snapshot) throws IOException {
        throw new IOException("this target's volumes have no snapshots");
    }

    /** As {@link #exportTo}, the snapshot's data; it reads only immutable objects, so a gateway may serve the volume. (Since API 1.7.) */
    default void exportSnapshotTo(String snapshot, Path dest, LongConsumer bytesLeft) throws IOException {
        throw new IOException("this target's volumes have no snapshots");
    }

    /**
     * Removes the chunk objects neither the volume nor any snapshot references (left by crashes or deleted
     * snapshots); safe while a gateway serves the volume. {@code dryRun}: only count them. (Since API 1.7.)
     */
    default GcReport gc(boolean dryRun) throws IOException {
        throw new IOException("this target's volumes have no garbage collection");
    }

    /**
     * Creates this volume as a clone of snapshot {@code snapshot} of volume {@code parent} in the same store:
     * it copies no chunk; chunks the clone has not written read from the snapshot. The parent keeps a record
     * of the clone, which protects the snapshot until the clone is flattened or deleted. (Since API 1.8.)
     */
    default VolumeStatus cloneFrom(String parent, String snapshot) throws IOException {
        throw new IOException("this target's volumes cannot be cloned");
    }

    /**
     * Copies every chunk the clone still reads from its parent's snapshot into the clone and then drops the
     * reference (refused while a gateway serves the clone). (Since API 1.8.)
     *
     * @return the chunks copied
     */
    default long flatten(LongConsumer bytesLeft) throws IOException {
        throw new IOException("this target's volumes cannot be cloned, so none needs flattening");
    }

    /** The snapshot this volume is a clone of, or empty; with the clones of this volume. (Since API 1.8.) */
    default Lineage lineage() throws IOException {
        return new Lineage(null, List.of(), List.of());
    }

    @Override
    void close() throws IOException;

    /**
     * A clone's parent.
     *
     * @param volume   the parent volume's name
     * @param snapshot the parent's snapshot the clone reads
     * @param volumeId the parent volume's id, in hex
     */
    record Parent(String volume, String snapshot, String volumeId) {}

    /**
     * Where a volume stands among snapshots and clones.
     *
     * @param parent    the snapshot it is a clone of, or null
     * @param snapshots the names of its snapshots, sorted
     * @param clones    the clones of its snapshots, as {@code CHILD (of SNAP)}, sorted
     */
    record Lineage(Parent parent, List<String> snapshots, List<String> clones) {
        public Lineage {
            snapshots = List.copyOf(snapshots);
            clones = List.copyOf(clones);
        }
    }

    /**
     * One snapshot.
     *
     * @param createdMillis   when it was taken (epoch milliseconds)
     * @param referencedBytes bytes of the chunks it references (chunks with data)
     */
    record SnapshotInfo(String name, long createdMillis, long referencedBytes) {}

    /**
     * What {@link #gc} found.
     *
     * @param objects  chunk objects listed
     * @param referenced objects the chunk map or a snapshot references
     * @param removed  unreferenced objects removed (with a dry run: that would be removed)
     * @param kept     unreferenced objects kept because a serving gateway may still reference them (newer than
     *                 its stored chunk map), or whose names are not this volume's
     */
    record GcReport(long objects, long referenced, long removed, long kept) {}

    /**
     * A volume as its metadata describes it.
     *
     * @param sizeBytes     the volume's size
     * @param chunkBytes    bytes per chunk (one object each)
     * @param codecs        codec types in the order they are applied on the way out
     * @param format        the metadata format version
     * @param volumeId      the volume's random id, in hex
     * @param createdMillis when it was created (epoch milliseconds), 0 when its metadata predates the field
     * @param storedChunks  chunk objects in the store, -1 when the store cannot list them
     * @param servedBy      the gateway whose lease is live (owner and heartbeat age), or null
     * @param incompleteImport the import that created it stopped before it finished (killed, or the machine died): it
     *                      cannot be served or exported; delete it and import again (since API 1.8)
     */
    record VolumeStatus(String name, long sizeBytes, long chunkBytes, List<String> codecs, int format, String volumeId,
                        long createdMillis, long storedChunks, String servedBy, boolean incompleteImport) {
        public VolumeStatus {
            codecs = List.copyOf(codecs);
        }

        /** A complete volume (the constructor before API 1.8). */
        public VolumeStatus(String name, long sizeBytes, long chunkBytes, List<String> codecs, int format, String volumeId,
                            long createdMillis, long storedChunks, String servedBy) {
            this(name, sizeBytes, chunkBytes, codecs, format, volumeId, createdMillis, storedChunks, servedBy, false);
        }
    }

    /**
     * What {@link #verify} found.
     *
     * @param chunks       chunks the volume has
     * @param stored       chunk objects read and checked
     * @param damage       every problem, by chunk
     * @param unreferenced chunk objects the chunk map does not list (a write not yet flushed when its gateway
     *                     died, or a leftover); they read as zeros and are not damage
     */
    record VerifyReport(long chunks, long stored, List<Damage> damage, long unreferenced) {
        public VerifyReport {
            damage = List.copyOf(damage);
        }

        public boolean clean() {
            return damage.isEmpty();
        }
    }

    /**
     * One damaged part of a volume.
     *
     * @param chunk   the chunk's index, or -1 for the volume's own objects (its chunk map)
     * @param offset  the byte offset in the volume where the chunk starts, or -1
     * @param problem what is wrong, e.g. "missing" or "corrupt (tag mismatch)"
     */
    record Damage(long chunk, long offset, String problem) {}
}
