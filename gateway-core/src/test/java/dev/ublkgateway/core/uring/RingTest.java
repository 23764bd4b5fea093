package dev.ublkgateway.core.uring;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

/** Runs against this machine's kernel io_uring through the system liburing. */
class RingTest {
    @TempDir
    Path dir;

    record Cqe(long userData, int res) {}

    private static List<Cqe> waitFor(Ring ring, int n) throws UringException {
        List<Cqe> out = new ArrayList<>();
        while (out.size() < n) {
            ring.submitAndWait(1);
            ring.reap((ud, res, fl) -> out.add(new Cqe(ud, res)));
        }
        return out;
    }

    @Test
    void nopRoundTripsCarryUserData() throws Exception {
        try (Ring ring = Ring.create(8, 0)) {
            for (int round = 0; round < 100; round++) {
                for (long i = 0; i < 5; i++) ring.prepNop(round * 10L + i);
                List<Cqe> got = waitFor(ring, 5);
                assertEquals(5, got.size());
                for (int i = 0; i < 5; i++) {
                    assertEquals(round * 10L + i, got.get(i).userData());
                    assertEquals(0, got.get(i).res());
                }
            }
        }
    }

    @Test
    void moreSqesThanEntriesAreSubmittedAutomatically() throws Exception {
        try (Ring ring = Ring.create(4, 0, 64)) {
            for (long i = 0; i < 20; i++) ring.prepNop(i);
            List<Cqe> got = waitFor(ring, 20);
            assertEquals(20, got.size());
            assertEquals(19L, got.get(19).userData());
        }
    }

    @Test
    void fileWriteThenReadBack() throws Exception {
        Path f = dir.resolve("data");
        int fd = Libc.open(f.toString(), Libc.O_RDWR | Libc.O_CREAT, 0644);
        try (Ring ring = Ring.create(8, 0); Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(8192, 4096);
            for (int i = 0; i < 8192; i++) out.set(JAVA_BYTE, i, (byte) (i * 7));
            ring.prepReadWrite(Op.WRITE, fd, out.address(), 8192, 4096, 1);
            assertEquals(8192, waitFor(ring, 1).get(0).res());
            ring.prepFsync(fd, Op.FSYNC_DATASYNC, 2);
            assertEquals(0, waitFor(ring, 1).get(0).res());
            MemorySegment in = a.allocate(8192, 4096);
            ring.prepReadWrite(Op.READ, fd, in.address(), 8192, 4096, 3);
            assertEquals(8192, waitFor(ring, 1).get(0).res());
            assertEquals(-1L, out.mismatch(in));
            assertEquals(4096 + 8192, Files.size(f));
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void fixedFilesAndBuffers() throws Exception {
        Path f = dir.resolve("fixed");
        int fd = Libc.open(f.toString(), Libc.O_RDWR | Libc.O_CREAT, 0644);
        try (Ring ring = Ring.create(8, 0); Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096, 4096);
            buf.fill((byte) 0x5a);
            ring.registerFiles(fd);
            ring.registerBuffers(buf);
            long s = ring.prepFixed(Op.WRITE_FIXED, 0, buf.address(), 4096, 0, 0, 7);
            ring.setFlags(s, Op.SQE_FIXED_FILE);
            assertEquals(4096, waitFor(ring, 1).get(0).res());
            buf.fill((byte) 0);
            s = ring.prepFixed(Op.READ_FIXED, 0, buf.address(), 4096, 0, 0, 8);
            ring.setFlags(s, Op.SQE_FIXED_FILE);
            assertEquals(4096, waitFor(ring, 1).get(0).res());
            assertEquals((byte) 0x5a, buf.get(JAVA_BYTE, 4095));
            assertArrayEquals(filled(4096, (byte) 0x5a), Files.readAllBytes(f));
        } finally {
            Libc.close(fd);
        }
    }

    /** The empty table a zero-copy ublk queue lends the kernel: its slots are unusable until filled. */
    @Test
    void sparseBufferTableHasEmptySlots() throws Exception {
        try (Ring ring = Ring.create(8, 0)) {
            ring.registerSparseBuffers(32);
            ring.prepFixed(Op.READ_FIXED, 0, 0, 4096, 0, 3, 9);
            int res = waitFor(ring, 1).get(0).res();
            assertTrue(res < 0, "an empty slot fails the I/O, got " + res);
            UringException e = assertThrows(UringException.class, () -> ring.registerSparseBuffers(4));
            assertEquals(Errno.EBUSY, e.errno(), "one table per ring");
        }
    }

    @Test
    void errorCompletionsMapToNamedErrnos() throws Exception {
        try (Ring ring = Ring.create(8, 0); Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(512);
            ring.prepReadWrite(Op.READ, 999_999, buf.address(), 512, 0, 1);
            int res = waitFor(ring, 1).get(0).res();
            assertEquals(-9, res);
            UringException e = assertThrows(UringException.class, () -> UringException.check(res, "read"));
            assertEquals("read: EBADF (Bad file descriptor)", e.getMessage());
            assertEquals(9, e.errno());
        }
    }

    @Test
    void eventfdPollWakesTheRing() throws Exception {
        int efd = Libc.eventfd(0, 0);
        try (Ring ring = Ring.create(8, 0); Arena a = Arena.ofConfined()) {
            ring.prepPollAdd(efd, Op.POLLIN, 42);
            ring.submit();
            assertEquals(0, ring.ready());
            Thread t = Thread.ofPlatform().start(() -> {
                try (Arena mine = Arena.ofConfined()) {
                    Thread.sleep(50);
                    Libc.write(efd, mine.allocateFrom(JAVA_LONG, 1L));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Cqe c = waitFor(ring, 1).get(0);
            t.join();
            assertEquals(42L, c.userData());
            assertTrue((c.res() & Op.POLLIN) != 0);
        } finally {
            Libc.close(efd);
        }
    }

    @Test
    void teardownWithRequestsInFlightDoesNotHang() throws Exception {
        int efd = Libc.eventfd(0, 0);
        try (Arena a = Arena.ofConfined()) {
            Ring ring = Ring.create(16, 0);
            MemorySegment buf = a.allocate(8);
            for (int i = 0; i < 8; i++) ring.prepReadWrite(Op.READ, efd, buf.address(), 8, 0, i); // never satisfied
            ring.submit();
            long t0 = System.nanoTime();
            ring.close();
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "ring teardown took too long");
            ring.close(); // idempotent
        } finally {
            Libc.close(efd);
        }
    }

    @Test
    void badSetupIsANamedError() {
        UringException e = assertThrows(UringException.class, () -> Ring.create(0, 0));
        assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());
    }

    @Test
    void sqe128RingsCarryLargeCommands() throws Exception {
        try (Ring ring = Ring.create(4, Op.SETUP_SQE128)) {
            long s = ring.prepNop(5);
            assertEquals(0, s % 128);
            long s2 = ring.prepNop(6);
            assertEquals(128, s2 - s);
            assertEquals(2, waitFor(ring, 2).size());
        }
    }

    private static byte[] filled(int n, byte b) {
        byte[] x = new byte[n];
        java.util.Arrays.fill(x, b);
        return x;
    }

    /** With DEFER_TASKRUN and TASKRUN_FLAG, a completion waiting for the next wait shows in the SQ flags. */
    @Test
    void taskWorkPendingShowsADeferredCompletion() throws Exception {
        int efd = Libc.eventfd(0, 0);
        try (Ring ring = Ring.create(8, Op.SETUP_SINGLE_ISSUER | Op.SETUP_DEFER_TASKRUN | Op.SETUP_TASKRUN_FLAG);
             Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8, 8);
            ring.prepReadWrite(Op.READ, efd, buf.address(), 8, 0, 42);
            ring.submit();
            assertFalse(ring.taskWorkPending(), "nothing to complete yet");
            Libc.write(efd, a.allocateFrom(JAVA_LONG, 1L));
            long end = System.nanoTime() + 2_000_000_000L;
            while (!ring.taskWorkPending() && System.nanoTime() < end) Thread.onSpinWait();
            assertTrue(ring.taskWorkPending(), "the read's completion is deferred to the next wait");
            assertEquals(0, ring.ready(), "and not posted before it");
            assertEquals(List.of(new Cqe(42, 8)), waitFor(ring, 1));
            assertFalse(ring.taskWorkPending(), "the wait ran it");
        } finally {
            Libc.close(efd);
        }
    }
}
