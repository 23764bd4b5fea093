package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.Volume;

import java.io.IOException;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;

/**
 * The parent snapshot a clone reads its unwritten chunks from: the parent volume opened without its lease
 * (its store beside the clone's, {@link ObjectStore#sibling}), checked against the id the clone recorded,
 * and the snapshot's manifest. Parent chunks decode with the parent's identity (its volume id and salt),
 * so an object moved between volumes stays unreadable. A parent that is itself a clone has a source of its
 * own: reads walk up the chain.
 */
final class CloneSource implements AutoCloseable {
    /** The longest chain of clones a volume may sit at the end of. */
    static final int MAX_DEPTH = 16;
    /** Where a volume records a clone of one of its snapshots: {@code clones/CHILD}. */
    static final String MARKERS = "clones/";

    final Volume.Parent ref;
    final VolumeFormat parent;
    final Snapshot snapshot;
    private final ChunkMap snapMap;
    private final ChunkStore reader;
    /** Chunks with data in the snapshot (its own objects or, up the chain, its parent's). */
    private final BitSet present = new BitSet();
    private final int chunkSize;

    private CloneSource(Volume.Parent ref, VolumeFormat parent, Snapshot snapshot, int chunkSize) {
        this.ref = ref;
        this.parent = parent;
        this.snapshot = snapshot;
        this.chunkSize = chunkSize;
        this.snapMap = new ChunkMap(parent.map.count());
        snapMap.restore(snapshot.gens());
        long chunks = Math.ceilDiv(snapshot.size(), chunkSize);
        for (int i = 0; i < chunks && i < snapshot.gens().length; i++) {
            if (snapshot.gens()[i] != 0 || (parent.source != null && parent.source.has(i))) present.set(i);
        }
        // the parent's chunks as of the snapshot; those it had not written come from its own parent
        this.reader = parent.cloneReader(snapMap, chunkSize, ref.volume());
    }

    /**
     * Opens the parent of a clone stored in {@code childStore}. {@code ref.volumeId()} null: the parent
     * as it is now (a clone being created); else it must be that volume (not one deleted and created anew).
     */
    static CloneSource open(ObjectStore childStore, Volume.Parent ref, String child, int chunkSize, List<String> codecNames,
                            List<ChunkedTarget.CodecFactory> factories, int depth) throws IOException {
        String v = "volume " + child + ": ";
        if (depth >= MAX_DEPTH) {
            throw new IOException(v + "it is at the end of more than " + MAX_DEPTH + " clones of clones; flatten one of them"
                    + " (ublk-gateway volume flatten)");
        }
        ObjectStore ps;
        try {
            ps = childStore.sibling(ref.volume());
        } catch (IOException e) {
            throw new IOException(v + "its parent volume " + ref.volume() + " cannot be opened (" + e.getMessage() + ")");
        }
        boolean ok = false;
        try {
            VolumeMeta pm = VolumeFormat.readMeta(ps).orElseThrow(() -> new IOException(v + "its parent volume " + ref.volume()
                    + " is not in the store" + (ref.volumeId() == null ? "; check the name (ublk-gateway volume list)"
                            : " any more: the clone's unwritten chunks are lost")));
            String id = HexFormat.of().formatHex(pm.volumeId());
            if (ref.volumeId() != null && !ref.volumeId().equals(id)) {
                throw new IOException(v + "its parent volume " + ref.volume() + " was deleted and created anew (volume id " + id
                        + ", the clone's parent was " + ref.volumeId() + "): the clone's unwritten chunks are lost");
            }
            if (pm.format() < 2) throw new IOException(v + "volume " + ref.volume() + ": " + VolumeFormat.formatOneSnapshots());
            DeviceDescriptor pd = new DeviceDescriptor(ref.volume(), pm.size(), 4096, 1, 1, chunkSize);
            VolumeFormat pf = VolumeFormat.open(pd, chunkSize, false, false, ps, codecNames, factories, VolumeFormat.Use.READ, null, depth + 1);
            try {
                Snapshot s = pf.readSnapshot(ref.snapshot()).orElseThrow(() -> new IOException(v + "its parent volume " + ref.volume()
                        + " has no snapshot " + ref.snapshot() + (ref.volumeId() == null
                                ? "; list them with ublk-gateway volume snapshots" : " any more: the clone's unwritten chunks are lost")));
                CloneSource c = new CloneSource(new Volume.Parent(ref.volume(), ref.snapshot(), id), pf, s, chunkSize);
                ok = true;
                return c;
            } finally {
                if (!ok) pf.close(false);
            }
        } finally {
            if (!ok) ps.close();
        }
    }

    /** Whether chunk {@code index} reads from the parent when the clone has no object of its own for it. */
    boolean has(long index) {
        return index < Integer.MAX_VALUE && present.get((int) index);
    }

    /** The parent's chunk (with its trailer, {@link GenerationCheck}), or null when it has none. */
    byte[] read(long index) throws IOException {
        if (!has(index)) return null;
        return reader.read(index);
    }

    /** The snapshot's chunks with data, in the parent and up the chain. */
    long chunksWithData() {
        return present.cardinality();
    }

    /**
     * Reads the parent object chunk {@code index} comes from and checks it as {@code volume verify} does;
     * a missing object is an error here (a read would see zeros).
     */
    void check(long index) throws IOException {
        long gen = index < snapshot.gens().length ? snapshot.gens()[(int) index] : 0;
        if (gen == 0) {
            if (parent.source != null) parent.source.check(index);
            return;
        }
        byte[] frame = parent.codecs.read(index, gen);
        String where = " (parent " + ref.volume() + ", snapshot " + ref.snapshot() + ")";
        if (frame == null) throw new IOException("missing: generation " + gen + " is not in the store" + where);
        long g = frame.length == chunkSize + GenerationCheck.TRAILER
                ? java.nio.ByteBuffer.wrap(frame, chunkSize, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong() : -1;
        if (g != gen) throw new IOException("its object for generation " + gen + " holds generation " + g + where);
    }

    /** The parent volume's store (where its clone markers are). */
    ObjectStore parentStore() {
        return parent.given;
    }

    @Override
    public void close() throws IOException {
        parent.close(false);
    }
}
