package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.queue.RingQueueContext;
import dev.ublkgateway.core.queue.RingTargetQueue;
import dev.ublkgateway.core.uring.Ring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/** Drives the file target over a real io_uring on this machine, as a ublk queue would. */
class FileTargetTest {
    @TempDir
    Path dir;

    /** A minimal queue: a ring whose target completions are routed back to the file queue. */
    static final class Harness implements RingQueueContext, AutoCloseable {
        final Ring ring;
        RingTargetQueue q;

        Harness() throws Exception {
            ring = Ring.create(16, 0);
        }

        public Ring ring() { return ring; }
        public long targetUserData(int tag, int cookie) { return tag; }
        public int queueId() { return 0; }
        public int depth() { return 4; }
        public int maxIoBytes() { return 1 << 20; }

        int run(TestRequest r) throws Exception {
            int res = q.submit(r);
            if (res != TargetQueue.PENDING) return res;
            while (r.completed == Integer.MIN_VALUE) {
                ring.submitAndWait(1);
                ring.reap((ud, cqeRes, fl) -> q.onRingCompletion((int) ud, 0, cqeRes));
            }
            return r.completed;
        }

        public void close() {
            ring.close();
        }
    }

    private void roundTrip(boolean direct) throws Exception {
        Path f = dir.resolve("backing-" + direct);
        long size = 16L << 20;
        FileTarget t = new FileTarget(f, size, direct, false, true);
        try (Harness h = new Harness(); Arena a = Arena.ofConfined()) {
            h.q = (RingTargetQueue) t.openQueue(h);
            TestRequest w = new TestRequest(a, 64 << 10);
            w.set(BlockOp.WRITE, BlockOp.FLAG_FUA, 1 << 20, 64 << 10);
            for (int i = 0; i < 64 << 10; i++) w.buffer().set(JAVA_BYTE, i, (byte) (i * 31 + 7));
            assertEquals(64 << 10, h.run(w));
            assertEquals(0, h.run(w.set(BlockOp.FLUSH, 0, 0, 0)));
            TestRequest r = new TestRequest(a, 64 << 10);
            assertEquals(64 << 10, h.run(r.set(BlockOp.READ, 0, 1 << 20, 64 << 10)));
            assertEquals(-1, w.set(BlockOp.WRITE, 0, 1 << 20, 64 << 10).buffer().mismatch(r.buffer()));
            byte[] onDisk = new byte[64 << 10];
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
                raf.seek(1 << 20);
                raf.readFully(onDisk);
            }
            assertEquals((byte) (5 * 31 + 7), onDisk[5]);
            // punch the first 16 KiB of the written range: reads as zeros, the rest intact
            assertEquals(0, h.run(w.set(BlockOp.DISCARD, 0, 1 << 20, 16 << 10)));
            assertEquals(64 << 10, h.run(r.set(BlockOp.READ, 0, 1 << 20, 64 << 10)));
            assertEquals(0, r.buffer().get(JAVA_BYTE, 100));
            assertEquals((byte) ((16 << 10) * 31 + 7), r.buffer().get(JAVA_BYTE, 16 << 10));
            assertEquals(0, h.run(w.set(BlockOp.WRITE_ZEROES, BlockOp.FLAG_NOUNMAP, (1 << 20) + (16 << 10), 4096)));
            assertEquals(64 << 10, h.run(r.set(BlockOp.READ, 0, 1 << 20, 64 << 10)));
            assertEquals(0, r.buffer().get(JAVA_BYTE, (16 << 10) + 4095));
            assertEquals((byte) ((20 << 10) * 31 + 7), r.buffer().get(JAVA_BYTE, 20 << 10));
        } finally {
            t.close();
        }
        assertEquals(size, Files.size(f));
    }

    @Test
    void bufferedRoundTrip() throws Exception {
        roundTrip(false);
    }

    @Test
    void directRoundTrip() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(supportsDirect(), "temp filesystem lacks O_DIRECT");
        roundTrip(true);
    }

    private boolean supportsDirect() {
        try {
            new FileTarget(dir.resolve("probe"), 4096, true, false, true).close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void readsPastTheEndOfAShortBlockDeviceStyleFileAreZeros() throws Exception {
        Path f = dir.resolve("short");
        Files.write(f, new byte[8192]);
        FileTarget t = new FileTarget(f, 8192, false, false, false);
        try (Harness h = new Harness(); Arena a = Arena.ofConfined()) {
            h.q = (RingTargetQueue) t.openQueue(h);
            TestRequest r = new TestRequest(a, 8192);
            assertEquals(4096, h.run(r.set(BlockOp.READ, 0, 8192, 4096)));
            assertEquals(0, r.buffer().get(JAVA_BYTE, 0));
        } finally {
            t.close();
        }
    }

    @Test
    void createMakesTheMissingDirectoriesToo() throws Exception {
        Path deep = dir.resolve("a/b/data.img");
        new FileTarget(deep, 1 << 20, false, false, true).close();
        assertEquals(1 << 20, Files.size(deep));
    }

    @Test
    void missingOrSmallBackingFilesAreRefusedClearly() throws Exception {
        Path missing = dir.resolve("nope.img");
        IOException e = assertThrows(IOException.class, () -> new FileTarget(missing, 1 << 20, false, false, false));
        assertEquals("backing file " + missing + " does not exist; create it (e.g. truncate -s SIZE " + missing
                + ") or set create: true", e.getMessage());
        Path small = dir.resolve("small.img");
        Files.write(small, new byte[4096]);
        e = assertThrows(IOException.class, () -> new FileTarget(small, 1 << 20, false, false, false));
        assertTrue(e.getMessage().contains("smaller than the device's 1048576 bytes"), e.getMessage());
    }
}
