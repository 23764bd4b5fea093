package com.example.checksum;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.logging.Logger;
import java.util.zip.CRC32C;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Keeps a CRC32C of every block in a memory-mapped sidecar file and checks it on read. An entry is
 * {@code 1 << 32 | crc} once the block was written; 0 means "never written", which is not checked.
 * Checksums are recorded only after the target accepted the write, and the sidecar is made durable on
 * FLUSH before the flush goes down, so after a crash they never claim data that was not flushed.
 */
final class ChecksumStage implements BlockStage {
    private static final Logger LOG = Logger.getLogger(ChecksumStage.class.getName());
    private static final long WRITTEN = 1L << 32;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment sums;
    private final int blockSize;
    private final long zeroBlockSum;
    private final String device;

    ChecksumStage(Path sidecar, DeviceDescriptor device) throws IOException {
        this.blockSize = device.blockSize();
        this.device = device.name();
        long entries = device.sizeBytes() / blockSize;
        try (FileChannel ch = FileChannel.open(sidecar, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            if (ch.size() < entries * 8) ch.truncate(entries * 8).write(java.nio.ByteBuffer.allocate(1), entries * 8 - 1);
            sums = ch.map(FileChannel.MapMode.READ_WRITE, 0, entries * 8, arena);
        }
        CRC32C crc = new CRC32C();
        crc.update(new byte[blockSize]);
        zeroBlockSum = WRITTEN | crc.getValue();
    }

    /**
     * Reads the bytes, never changes them. One sidecar for every queue, forced on FLUSH: connections may
     * share it, and FLUSH must reach it (its sums sit in mapped memory until then).
     */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, Capabilities.DataAccess.READS, true);
    }

    @Override
    public StageQueue openQueue(QueueContext queue) {
        return new Queue();
    }

    @Override
    public void close() {
        sums.force();
        arena.close();
    }

    private final class Queue implements StageQueue {
        private final CRC32C crc = new CRC32C();

        @Override
        public int submit(BlockRequest r, TargetQueue next) {
            if (r.op() == BlockOp.FLUSH) sums.force();
            int res = next.submit(r);
            return res == TargetQueue.PENDING ? res : completed(r, res);
        }

        @Override
        public int completed(BlockRequest r, int result) {
            if (result < 0) return result;
            long first = r.offset() / blockSize;
            int blocks = r.length() / blockSize;
            switch (r.op()) {
                case BlockOp.WRITE -> {
                    for (int i = 0; i < blocks; i++) sums.setAtIndex(JAVA_LONG, first + i, WRITTEN | sum(r, i));
                }
                case BlockOp.DISCARD, BlockOp.WRITE_ZEROES -> {
                    for (int i = 0; i < blocks; i++) sums.setAtIndex(JAVA_LONG, first + i, zeroBlockSum);
                }
                case BlockOp.READ -> {
                    for (int i = 0; i < blocks; i++) {
                        long want = sums.getAtIndex(JAVA_LONG, first + i);
                        if (want != 0 && want != (WRITTEN | sum(r, i))) {
                            LOG.severe(device + ": checksum mismatch in block " + (first + i) + " (byte offset "
                                    + (first + i) * blockSize + "): the target returned corrupted data");
                            return -Errno.EIO;
                        }
                    }
                }
                default -> { }
            }
            return result;
        }

        private long sum(BlockRequest r, int block) {
            crc.reset();
            crc.update(r.buffer().asSlice((long) block * blockSize, blockSize).asByteBuffer());
            return crc.getValue();
        }
    }
}
