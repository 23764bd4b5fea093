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
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.queue.RingQueueContext;
import dev.ublkgateway.core.queue.RingTargetQueue;
import dev.ublkgateway.core.uring.Op;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A device backed by a file or block device. Its reads, writes, syncs and hole punches are issued on
 * the queue's own ring, so one submit carries both ublk commits and backing I/O.
 */
public final class FileTarget implements Target {
    private final Path path;
    private final int fd;
    private final boolean fsync;
    /** Only a regular file has holes to tell; a block device reports all data. */
    private final boolean sparse;

    /**
     * Opens the backing file; with {@code create} a missing file is created sparse at {@code size},
     * and its missing directories too (e.g. a fresh /var/tmp/ublk-gateway/).
     * A file smaller than the device is refused rather than silently extended.
     */
    public FileTarget(Path path, long size, boolean direct, boolean fsync, boolean create) throws IOException {
        this.path = path;
        this.fsync = fsync;
        boolean exists = Files.exists(path);
        if (!exists && !create) {
            throw new IOException("backing file " + path + " does not exist; create it (e.g. truncate -s SIZE "
                    + path + ") or set create: true");
        }
        if (!exists && path.toAbsolutePath().getParent() != null) {
            try {
                Files.createDirectories(path.toAbsolutePath().getParent());
            } catch (IOException e) {
                throw new IOException("cannot create the directory of backing file " + path + " ("
                        + e.getClass().getSimpleName() + "); create it or choose another path");
            }
        }
        int flags = Libc.O_RDWR | (create ? Libc.O_CREAT : 0) | (direct ? Libc.O_DIRECT : 0);
        try {
            fd = Libc.open(path.toString(), flags, 0644);
        } catch (NativeException e) {
            String hint = e.errno() == Errno.EINVAL && direct
                    ? "; this filesystem does not support O_DIRECT, set direct: false" : "";
            throw new IOException("cannot open backing file " + path + ": " + Libc.describe(e.errno()) + hint);
        }
        try {
            sparse = Files.isRegularFile(path);
            if (sparse) {
                long have = Files.size(path);
                if (have < size) {
                    if (!create || exists && have > 0) {
                        throw new IOException("backing file " + path + " is " + have + " bytes, smaller than the "
                                + "device's " + size + " bytes; grow it (truncate -s " + size + " " + path
                                + ") or shrink the device");
                    }
                    try {
                        Libc.ftruncate(fd, size);
                    } catch (NativeException e) {
                        throw new IOException("cannot make backing file " + path + " " + Size.format(size) + ": "
                                + Libc.describe(e.errno()) + (e.errno() == Errno.EFBIG ? ", beyond the file system's"
                                + " largest file" : "") + "; use a smaller size, or another file system or a block device");
                    }
                }
            }
        } catch (IOException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /**
     * One file under every queue: a FLUSH's fdatasync covers writes completed on any of them. Its reads and
     * writes are ring I/O, so they can work on a request's registered pages as well (zero copy).
     */
    @Override
    public Capabilities capabilities() {
        return Target.super.capabilities().withMultiConnSafe(true).withZeroCopy(true);
    }

    @Override
    public boolean volatileCache() {
        return true; // page cache or the disk's own cache: FLUSH must reach fdatasync
    }

    @Override
    public int extents(long offset, long length, ExtentSink sink) {
        if (!sparse) return Target.super.extents(offset, length, sink);
        return SeekExtents.report(fd, offset, length, sink);
    }

    /**
     * Grows a regular backing file (sparse, so it costs no space until written) when it is shorter than
     * {@code newSize}; a longer file is left alone, unless the device shrinks: then the file is cut to it. A block device cannot
     * grow, so a size beyond it is refused.
     */
    @Override
    public synchronized void resize(long newSize, boolean allowShrink) throws IOException {
        if (!sparse) {
            throw new IOException("backing " + path + " is a block device, which cannot grow or shrink with the device; "
                    + "use a file backing, or serve a larger block device");
        }
        long have = Files.size(path);
        // a file longer than the device (allowed at up) already serves a device that grows into it
        if (newSize == have || newSize < have && !allowShrink) return;
        try {
            Libc.ftruncate(fd, newSize);
            if (newSize > have) Libc.fdatasync(fd); // the new length is durable before the device shows it
        } catch (NativeException e) {
            throw new IOException("cannot make backing file " + path + " " + Size.format(newSize) + ": "
                    + Libc.describe(e.errno()) + (e.errno() == Errno.EFBIG ? ", beyond the file system's largest file" : "")
                    + "; use a smaller size");
        }
    }

    @Override
    public TargetQueue openQueue(QueueContext queue) {
        if (!(queue instanceof RingQueueContext rq)) {
            throw new IllegalStateException("the file target needs a ring-driven queue");
        }
        return new FileQueue(rq);
    }

    @Override
    public void close() throws IOException {
        try {
            Libc.fdatasync(fd);
        } catch (NativeException e) {
            if (e.errno() != Errno.EINVAL) throw new IOException("flushing " + path + ": " + e.getMessage());
        } finally {
            Libc.close(fd);
        }
    }

    /** Per-queue state: partial-transfer progress per tag, so short reads/writes are continued. */
    private final class FileQueue implements RingTargetQueue {
        private final RingQueueContext ctx;
        private final Ring ring;
        private final BlockRequest[] inFlight;
        private final int[] done;

        FileQueue(RingQueueContext ctx) {
            this.ctx = ctx;
            this.ring = ctx.ring();
            this.inFlight = new BlockRequest[ctx.depth()];
            this.done = new int[ctx.depth()];
        }

        @Override
        public int submit(BlockRequest r) {
            int tag = r.tag();
            inFlight[tag] = r;
            done[tag] = 0;
            try {
                switch (r.op()) {
                    case BlockOp.READ, BlockOp.WRITE -> issueTransfer(r);
                    case BlockOp.FLUSH -> ring.prepFsync(fd, fsync ? 0 : Op.FSYNC_DATASYNC, ctx.targetUserData(tag, 0));
                    case BlockOp.DISCARD -> ring.prepFallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE,
                            r.offset(), r.length(), ctx.targetUserData(tag, 0));
                    case BlockOp.WRITE_ZEROES -> {
                        int mode = (r.flags() & BlockOp.FLAG_NOUNMAP) != 0
                                ? Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE
                                : Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE;
                        ring.prepFallocate(fd, mode, r.offset(), r.length(), ctx.targetUserData(tag, 0));
                    }
                    default -> {
                        return -Errno.EOPNOTSUPP;
                    }
                }
            } catch (UringException e) {
                return -Errno.EIO;
            }
            return PENDING;
        }

        /** The rest of a READ or WRITE; on a zero-copy request against its registered pages (addr = offset in them). */
        private void issueTransfer(BlockRequest r) throws UringException {
            int tag = r.tag();
            int d = done[tag];
            boolean read = r.op() == BlockOp.READ;
            int index = r.registeredBuffer();
            long s = index >= 0
                    ? ring.prepFixed(read ? Op.READ_FIXED : Op.WRITE_FIXED, fd, d, r.length() - d, r.offset() + d, index,
                            ctx.targetUserData(tag, 0))
                    : ring.prepReadWrite(read ? Op.READ : Op.WRITE, fd, r.buffer().address() + d, r.length() - d,
                            r.offset() + d, ctx.targetUserData(tag, 0));
            if (r.fua() && !read) ring.setRwFlags(s, Op.RWF_DSYNC);
        }

        @Override
        public void onRingCompletion(int tag, int cookie, int res) {
            BlockRequest r = inFlight[tag];
            int op = r.op();
            if (op != BlockOp.READ && op != BlockOp.WRITE) {
                finish(tag, res < 0 ? res : 0);
                return;
            }
            if (res == -Errno.EAGAIN || res == -Errno.EINTR) {
                retry(r);
                return;
            }
            if (res < 0) {
                finish(tag, res);
                return;
            }
            if (res == 0) {
                if (op == BlockOp.WRITE) {
                    finish(tag, -Errno.EIO);
                    return;
                }
                // Reading past the end of a backing file shrunk since: the rest reads as zeros (the kernel's
                // pages of a zero-copy request are out of reach here, so that one fails instead).
                if (r.registeredBuffer() >= 0) {
                    finish(tag, -Errno.EIO);
                    return;
                }
                r.buffer().asSlice(done[tag]).fill((byte) 0);
                finish(tag, r.length());
                return;
            }
            done[tag] += res;
            if (done[tag] < r.length()) retry(r);
            else finish(tag, r.length());
        }

        private void retry(BlockRequest r) {
            try {
                issueTransfer(r);
            } catch (UringException e) {
                finish(r.tag(), -Errno.EIO);
            }
        }

        private void finish(int tag, int result) {
            BlockRequest r = inFlight[tag];
            inFlight[tag] = null;
            r.complete(result);
        }
    }
}
