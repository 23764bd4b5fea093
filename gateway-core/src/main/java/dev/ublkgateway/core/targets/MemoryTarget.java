package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Caller;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * A RAM disk kept in a sparse tmpfs file (by default under /dev/shm), mapped shared. Pages are only
 * used once written and are returned on discard. Living outside the Java heap and outside the process,
 * the contents survive a crash of the gateway, so a recoverable device keeps its data; a clean stop
 * deletes the file.
 */
public final class MemoryTarget implements Target {
    private static final Logger LOG = Logger.getLogger(MemoryTarget.class.getName());
    private final Path file;
    private final int fd;
    /** The current mapping; a grown target maps anew and keeps the old ones (see {@link #resize}). */
    private volatile MemorySegment map;
    private final java.util.List<MemorySegment> oldMaps = new java.util.ArrayList<>();
    private volatile long size;

    public MemoryTarget(Path file, long size) throws IOException {
        this.file = file;
        this.size = size;
        Files.createDirectories(file.getParent());
        fd = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CREAT, 0600);
        try {
            Libc.ftruncate(fd, size); // sparse: nothing is allocated until written
            map = Libc.mmap(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_NORESERVE, fd, 0,
                    "memory target " + file);
        } catch (NativeException e) {
            Libc.close(fd);
            if (e.errno() == Errno.ENOMEM || e.errno() == Errno.EFBIG || e.errno() == Errno.EINVAL) {
                throw new IOException("memory target " + file + ": cannot map " + Size.format(size) + ": "
                        + Libc.describe(e.errno()) + "; use a smaller size, or a file or chunked target");
            }
            throw e;
        }
    }

    /** The default backing file for a device's memory target. */
    public static Path defaultFile(String deviceName) {
        // per user when not root: a directory root made first would not be writable
        int euid = Caller.euid();
        String dir = System.getenv().getOrDefault("UBLKGW_SHM_DIR",
                euid == 0 ? "/dev/shm/ublk-gateway" : "/dev/shm/ublk-gateway-" + euid);
        return Path.of(dir, deviceName + ".mem");
    }

    /** One memory area under every queue: what one wrote, all see; there is no cache to flush. */
    @Override
    public Capabilities capabilities() {
        return Target.super.capabilities().withMultiConnSafe(true);
    }

    @Override
    public TargetQueue openQueue(QueueContext queue) {
        return this::handle;
    }

    private int handle(BlockRequest r) {
        long off = r.offset();
        int len = r.length();
        long size = this.size;
        if (off < 0 || len > size || off > size - len) return -Errno.EIO; // no overflow near 2^63
        MemorySegment map = this.map;
        switch (r.op()) {
            case BlockOp.READ -> {
                // read(2), not a copy from the mapping: faulting a hole of the shared mapping in would
                // allocate a page for it, so discarded space would fill up again just by being read
                if (Libc.preadFast(fd, r.buffer().address(), len, off) != len) return -Errno.EIO;
            }
            case BlockOp.WRITE -> {
                try {
                    MemorySegment.copy(r.buffer(), 0, map, off, len);
                } catch (InternalError e) {
                    // the kernel could not give the mapping a page (SIGBUS): the tmpfs is full
                    noSpace();
                    return -Errno.ENOSPC;
                }
            }
            case BlockOp.FLUSH -> { }
            case BlockOp.DISCARD, BlockOp.WRITE_ZEROES -> {
                return zero(off, len);
            }
            default -> {
                return -Errno.EOPNOTSUPP;
            }
        }
        return r.op() == BlockOp.FLUSH ? 0 : len;
    }

    /**
     * Grows the file and maps it anew; a queue thread may still copy into the old mapping, which stays
     * mapped until close (both map the same file, so they see the same pages). Shrinking truncates the
     * file: the pages beyond the new end go back to the system.
     */
    @Override
    public synchronized void resize(long newSize, boolean allowShrink) throws IOException {
        if (newSize == size) return;
        if (newSize < size) {
            if (!allowShrink) throw new IOException("shrinking discards data; pass --shrink to shrink anyway");
            size = newSize; // requests beyond the new end now fail before they reach the file
            Libc.ftruncate(fd, newSize);
            return;
        }
        MemorySegment grown;
        try {
            Libc.ftruncate(fd, newSize);
            grown = Libc.mmap(newSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_NORESERVE, fd, 0,
                    "memory target " + file);
        } catch (NativeException e) {
            try {
                Libc.ftruncate(fd, size);
            } catch (NativeException ignored) {
                // the file stays longer than the device: harmless
            }
            throw new IOException("memory target " + file + ": cannot grow to " + Size.format(newSize) + ": "
                    + Libc.describe(e.errno()) + "; use a smaller size");
        }
        oldMaps.add(map);
        map = grown;
        size = newSize;
    }

    /** Pages never written or given back by a discard are the tmpfs file's holes. */
    @Override
    public int extents(long offset, long length, ExtentSink sink) {
        return SeekExtents.report(fd, offset, length, sink);
    }

    private long lastNoSpaceLog;

    private void noSpace() {
        long now = System.nanoTime();
        if (now - lastNoSpaceLog > 10_000_000_000L) { // at most one line every 10 s
            lastNoSpaceLog = now;
            LOG.warning("memory target " + file + ": no space left on " + file.getParent()
                    + " for a write; writes fail with ENOSPC until space is freed (discard, or a larger tmpfs)");
        }
    }

    /** Zeroes a range, giving whole pages back to the system and clearing partial ones in place. */
    private int zero(long off, long len) {
        MemorySegment map = this.map;
        long page = Libc.PAGE_SIZE;
        long first = (off + page - 1) & -page, last = (off + len) & -page;
        if (first < last) {
            int r = Libc.fallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, first, last - first);
            if (r < 0) {
                map.asSlice(first, last - first).fill((byte) 0);
            }
            if (off < first) map.asSlice(off, first - off).fill((byte) 0);
            if (last < off + len) map.asSlice(last, off + len - last).fill((byte) 0);
        } else {
            map.asSlice(off, len).fill((byte) 0);
        }
        return 0;
    }

    @Override
    public synchronized void close() throws IOException {
        for (MemorySegment m : oldMaps) Libc.munmap(m);
        Libc.munmap(map);
        Libc.close(fd);
        Files.deleteIfExists(file);
    }
}
