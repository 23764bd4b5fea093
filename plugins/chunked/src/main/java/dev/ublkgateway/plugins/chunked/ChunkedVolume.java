package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ProviderContext;
import dev.ublkgateway.api.RetryPolicy;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Volume;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A chunked volume for the operations that run while no gateway serves it ({@code ublk-gateway volume}).
 * Data goes through the same layers as the live target ({@link VolumeFormat#layers}: zero elision,
 * generation check, codecs, store) under the volume's lease; only the cache is left out. Snapshots,
 * clones and garbage collection would be further operations here, over the same listing and layers.
 */
final class ChunkedVolume implements Volume {
    private final ChunkedTargetConfig config;
    private final String name;
    private final ProviderContext context;
    private ObjectStore store;

    ChunkedVolume(ChunkedTargetConfig config, String name, ProviderContext context) {
        this.config = config;
        this.name = name;
        this.context = context;
    }

    /** The store, opened on first use; a missing bucket or bad credentials fail here. */
    private ObjectStore store() throws IOException {
        if (store == null) store = context.openStore(config.store());
        return store;
    }

    /** The store for a {@link VolumeFormat}, which closes what it is given: this volume closes the store itself. */
    private ObjectStore lent() throws IOException {
        ObjectStore s = store();
        return new ObjectStore() {
            public Optional<byte[]> get(String key) throws IOException { return s.get(key); }
            public void put(String key, byte[] data, int offset, int length) throws IOException { s.put(key, data, offset, length); }
            public void delete(String key) throws IOException { s.delete(key); }
            public List<String> list(String prefix, boolean recursive) throws IOException { return s.list(prefix, recursive); }
            public RetryPolicy retries() { return s.retries(); }
            public void close() {}
        };
    }

    private int chunkSize() {
        return (int) config.chunkSize().bytes();
    }

    private DeviceDescriptor descriptor(long size) {
        return new DeviceDescriptor(name, size, 4096, 1, 1, chunkSize());
    }

    private List<String> codecNames() {
        return config.codecs().stream().map(NestedSpec::type).toList();
    }

    private List<ChunkedTarget.CodecFactory> codecs(long size) {
        List<ChunkedTarget.CodecFactory> l = new ArrayList<>();
        DeviceDescriptor d = descriptor(size);
        for (NestedSpec cs : config.codecs()) l.add(info -> context.createCodec(cs, d, info));
        return l;
    }

    private VolumeFormat open(long size, VolumeFormat.Use use) throws IOException {
        return VolumeFormat.open(descriptor(size), chunkSize(), false, false, lent(), codecNames(), codecs(size), use);
    }

    private VolumeMeta requireMeta() throws IOException {
        return VolumeFormat.readMeta(store()).orElseThrow(() ->
                new IOException("no volume " + name + " in this store; check the name and the store (ublk-gateway volume list)"));
    }

    @Override
    public Optional<VolumeStatus> status() throws IOException {
        Optional<VolumeMeta> meta = VolumeFormat.readMeta(store());
        if (meta.isEmpty()) return Optional.empty();
        VolumeMeta m = meta.get();
        long stored;
        try {
            stored = chunkKeys().size();
        } catch (IOException e) {
            stored = -1;
        }
        List<String> codecs = m.codecs().isEmpty() ? List.of() : List.of(m.codecs().split(","));
        return Optional.of(new VolumeStatus(name, m.size(), m.chunkSize(), codecs, m.format(), HexFormat.of().formatHex(m.volumeId()),
                m.created(), stored, Lease.holder(store()).orElse(null)));
    }

    /** The store's chunk object keys. */
    private List<String> chunkKeys() throws IOException {
        return store().list("chunks/", true);
    }

    @Override
    public VolumeStatus create(long sizeBytes) throws IOException {
        VolumeFormat f = open(sizeBytes, VolumeFormat.Use.CREATE);
        boolean ok = false;
        try {
            f.persistMap();
            ok = true;
        } finally {
            f.close(ok);
        }
        return status().orElseThrow();
    }

    @Override
    public void delete() throws IOException {
        requireMeta();
        ObjectStore s = RetryingStore.over(store(), RetryPolicy.DEFAULT);
        try (Lease lease = Lease.acquire(s, name, false, false)) {
            deleteObjects(s, config.writebackThreads());
        }
    }

    /** Deletes the chunks first and the metadata last, so a delete that fails half-way can be run again. */
    private void deleteObjects(ObjectStore s, int threads) throws IOException {
        List<String> chunks = s.list("chunks/", true);
        Parallel.run(chunks.size(), threads, i -> s.delete(chunks.get((int) i)));
        for (String k : s.list("", true)) {
            if (!k.equals(Lease.KEY) && !k.equals(VolumeMeta.KEY)) s.delete(k);
        }
        s.delete(VolumeMeta.KEY);
    }

    @Override
    public long importFrom(Path source, long sizeBytes, LongConsumer bytesLeft) throws IOException {
        long srcSize = RawImage.size(source);
        if (sizeBytes < 0) sizeBytes = Math.max(4096, Math.ceilDiv(srcSize, 4096) * 4096);
        if (srcSize > sizeBytes) {
            throw new IOException(source + " is " + Size.format(srcSize) + ", larger than volume " + name + " (" + Size.format(sizeBytes)
                    + "); use a larger volume");
        }
        int cs = chunkSize();
        try (FileChannel in = openImage(source, StandardOpenOption.READ)) {
            VolumeFormat f = open(sizeBytes, VolumeFormat.Use.CREATE);
            boolean ok = false;
            AtomicLong stored = new AtomicLong(), done = new AtomicLong();
            try {
                ChunkStore layers = f.layers(cs, name);
                long srcChunks = Math.ceilDiv(srcSize, cs);
                bytesLeft.accept(srcSize);
                ThreadLocal<byte[]> bufs = ThreadLocal.withInitial(() -> new byte[cs + GenerationCheck.TRAILER]);
                ThreadLocal<byte[]> zeros = ThreadLocal.withInitial(() -> new byte[cs]);
                Parallel.run(srcChunks, config.writebackThreads(), i -> {
                    byte[] buf = bufs.get();
                    long off = i * cs;
                    int n = (int) Math.min(cs, srcSize - off);
                    RawImage.readFully(in, off, buf, n);
                    Arrays.fill(buf, n, cs, (byte) 0);
                    // all-zero chunks are not stored: the volume reads them as zeros
                    if (!Arrays.equals(buf, 0, cs, zeros.get(), 0, cs)) {
                        layers.write(i, buf, cs);
                        stored.incrementAndGet();
                    }
                    bytesLeft.accept(srcSize - done.addAndGet(n));
                });
                f.persistMap();
                ok = true;
            } finally {
                if (!ok) {
                    // nothing half-imported stays behind to block the next try
                    try {
                        deleteObjects(RetryingStore.over(store(), RetryPolicy.DEFAULT), config.writebackThreads());
                    } catch (IOException | RuntimeException ignored) {
                        // the import's own failure is the one to report
                    }
                }
                f.close(true);
            }
            return stored.get();
        }
    }

    @Override
    public void exportTo(Path dest, LongConsumer bytesLeft) throws IOException {
        VolumeMeta meta = requireMeta();
        boolean device = RawImage.isBlockDevice(dest);
        if (!device && Files.exists(dest)) {
            throw new IOException(dest + " exists; remove it or name a new file (export writes a new file or a block device)");
        }
        if (device && RawImage.size(dest) < meta.size()) {
            throw new IOException(dest + " is " + Size.format(RawImage.size(dest)) + ", smaller than volume " + name + " ("
                    + Size.format(meta.size()) + "); use a larger device");
        }
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.CHECK);
        boolean created = false, ok = false;
        try {
            if (f.mapProblem != null) throw new IOException(f.mapProblem + "; run ublk-gateway volume verify");
            int cs = chunkSize();
            long size = meta.size();
            long count = Math.ceilDiv(size, cs);
            ChunkStore layers = f.layers(cs, name);
            RandomAccessFile file = null;
            if (!device) {
                openImage(dest, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                created = true;
                file = new RandomAccessFile(dest.toFile(), "rw");
                file.setLength(size); // sparse: chunks without data stay holes
            }
            try (FileChannel out = file != null ? file.getChannel() : openImage(dest, StandardOpenOption.WRITE)) {
                AtomicLong done = new AtomicLong();
                byte[] zeros = new byte[cs];
                bytesLeft.accept(size);
                Parallel.run(count, config.writebackThreads(), i -> {
                    long off = i * cs;
                    int n = (int) Math.min(cs, size - off);
                    byte[] data = f.map.get(i) == 0 ? null : layers.read(i);
                    if (data != null && Arrays.equals(data, 0, n, zeros, 0, n)) data = null;
                    if (data != null) RawImage.writeFully(out, off, data, n);
                    else if (device) RawImage.writeFully(out, off, zeros, n);
                    bytesLeft.accept(size - done.addAndGet(n));
                });
                out.force(false);
            }
            ok = true;
        } finally {
            f.close(true);
            if (!ok && created) Files.deleteIfExists(dest);
        }
    }

    /** Opens an image file or device; a missing folder or a refused permission is one line naming the path. */
    private static FileChannel openImage(Path p, StandardOpenOption... options) throws IOException {
        try {
            return FileChannel.open(p, options);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException(p + ": no such file or folder; check the path");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IOException(p + ": permission denied; check its permissions (a block device needs root or the disk group)");
        } catch (java.nio.file.FileSystemException e) {
            throw new IOException(p + ": " + (e.getReason() == null ? "cannot be opened" : e.getReason()));
        }
    }

    @Override
    public VerifyReport verify(LongConsumer bytesLeft) throws IOException {
        VolumeMeta meta = requireMeta();
        VolumeFormat f = open(meta.size(), VolumeFormat.Use.CHECK);
        try {
            int cs = chunkSize();
            long count = Math.ceilDiv(meta.size(), cs);
            List<Damage> damage = java.util.Collections.synchronizedList(new ArrayList<>());
            if (f.mapProblem != null) damage.add(new Damage(-1, -1, f.mapProblem));
            boolean mapOk = f.mapProblem == null;
            // every stored chunk object, by index; a key that names no chunk of this volume is unreferenced
            Set<Long> stored = new HashSet<>();
            long unreferenced = 0;
            for (String k : f.objects.store().list("chunks/", true)) {
                long i = StoreLayer.index(k);
                if (i < 0 || i >= count || (mapOk && f.map.get(i) == 0)) unreferenced++;
                else stored.add(i);
            }
            if (mapOk) {
                for (long i = 0; i < count; i++) {
                    long gen = f.map.get(i);
                    if (gen != 0 && !stored.contains(i)) {
                        damage.add(new Damage(i, i * cs, "missing: the chunk map lists it (generation " + gen + ") but the store has no object"));
                    }
                }
            }
            List<Long> check = new ArrayList<>(stored);
            check.sort(null);
            ChunkStore layers = f.layers(cs, name);
            AtomicLong done = new AtomicLong();
            long total = (long) check.size() * cs;
            bytesLeft.accept(total);
            Parallel.run(check.size(), config.writebackThreads(), k -> {
                long i = check.get((int) k);
                try {
                    // with a readable map, through the generation check too; else the codecs alone (CRC, GCM tag)
                    if (mapOk) layers.read(i);
                    else f.codecs.read(i);
                } catch (IOException e) {
                    damage.add(new Damage(i, i * cs, e.getMessage()));
                }
                bytesLeft.accept(total - done.addAndGet(cs));
            });
            List<Damage> sorted = new ArrayList<>(damage);
            sorted.sort(java.util.Comparator.comparingLong(Damage::chunk));
            return new VerifyReport(count, check.size(), sorted, unreferenced);
        } finally {
            f.close(true);
        }
    }

    @Override
    public void close() throws IOException {
        if (store != null) store.close();
    }
}
