package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.queue.RingTargetQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/** Online resize of the built-in targets while their queues stay open. */
class TargetResizeTest {
    @TempDir
    Path dir;

    private static long allocatedBytes(Path f) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", f.toString()).start();
        String[] v = new String(p.getInputStream().readAllBytes()).trim().split(" ");
        return Long.parseLong(v[0]) * Long.parseLong(v[1]);
    }

    /** A write of {@code r}'s 4 KiB at {@code offset}, filled with a pattern made from {@code seed}. */
    private static TestRequest write(TestRequest r, long offset, int seed) {
        r.set(BlockOp.WRITE, 0, offset, 4096);
        for (int i = 0; i < r.length(); i++) r.buffer().set(JAVA_BYTE, i, (byte) (i % 251 + seed));
        return r;
    }

    private static void assertFilled(TestRequest r, int seed) {
        for (int i = 0; i < r.length(); i++) assertEquals((byte) (i % 251 + seed), r.buffer().get(JAVA_BYTE, i), "byte " + i);
    }

    @Test
    void memoryGrowsUnderAnOpenQueueAndShrinksOnlyWhenAllowed() throws Exception {
        Path f = dir.resolve("m.mem");
        long mib = 1 << 20;
        try (Arena a = Arena.ofConfined()) {
            MemoryTarget t = new MemoryTarget(f, 4 * mib);
            TargetQueue q = t.openQueue(TestRequest.context(1));
            TestRequest w = new TestRequest(a, 4096);
            assertEquals(4096, q.submit(write(w, 4 * mib - 4096, 1)));
            assertEquals(-5, q.submit(w.set(BlockOp.WRITE, 0, 4 * mib, 4096)), "beyond the end before growing");

            t.resize(12 * mib, false);
            assertEquals(12 * mib, Files.size(f));
            assertEquals(4096, q.submit(write(w, 12 * mib - 4096, 2)), "the same queue reaches the new end");
            TestRequest r = new TestRequest(a, 4096);
            assertEquals(4096, q.submit(r.set(BlockOp.READ, 0, 4 * mib - 4096, 4096)));
            assertFilled(r, 1);
            assertEquals(4096, q.submit(r.set(BlockOp.READ, 0, 12 * mib - 4096, 4096)));
            assertFilled(r, 2);
            assertEquals(4096, q.submit(r.set(BlockOp.READ, 0, 8 * mib, 4096)));
            for (int i = 0; i < 4096; i++) assertEquals(0, r.buffer().get(JAVA_BYTE, i), "the new range reads as zeros");
            assertEquals(0, q.submit(w.set(BlockOp.DISCARD, 0, 8 * mib, (int) (2 * mib))), "discard in the new range");

            IOException e = assertThrows(IOException.class, () -> t.resize(2 * mib, false));
            assertTrue(e.getMessage().contains("--shrink"), e.getMessage());
            t.resize(2 * mib, true);
            assertEquals(2 * mib, Files.size(f));
            assertEquals(-5, q.submit(r.set(BlockOp.READ, 0, 2 * mib, 4096)), "beyond the new end fails");
            assertEquals(4096, q.submit(r.set(BlockOp.READ, 0, 0, 4096)));
            t.close();
            assertFalse(Files.exists(f));
        }
    }

    @Test
    void fileGrowsTheBackingFileSparseAndShrinksItOnlyWhenAllowed() throws Exception {
        Path f = dir.resolve("backing.img");
        long mib = 1 << 20;
        FileTarget t = new FileTarget(f, 4 * mib, false, false, true);
        try (FileTargetTest.Harness h = new FileTargetTest.Harness(); Arena a = Arena.ofConfined()) {
            h.q = (RingTargetQueue) t.openQueue(h);
            TestRequest w = new TestRequest(a, 4096);
            assertEquals(4096, h.run(write(w, 0, 3)));
            t.resize(64 * mib, false);
            assertEquals(64 * mib, Files.size(f));
            assertTrue(allocatedBytes(f) < 8 * mib, "the grown file stays sparse");
            assertEquals(4096, h.run(write(w, 64 * mib - 4096, 4)));
            TestRequest r = new TestRequest(a, 4096);
            assertEquals(4096, h.run(r.set(BlockOp.READ, 0, 64 * mib - 4096, 4096)));
            assertFilled(r, 4);
            assertEquals(64 * mib, Files.size(f), "a write at the new end does not extend the file");

            t.resize(32 * mib, false);
            assertEquals(64 * mib, Files.size(f), "growing never cuts a file that is already longer");
            t.resize(8 * mib, true);
            assertEquals(8 * mib, Files.size(f));
            assertEquals(4096, h.run(r.set(BlockOp.READ, 0, 0, 4096)));
            assertFilled(r, 3);
        } finally {
            t.close();
        }
    }

    @Test
    void aBlockDeviceBackingCannotChangeSize() throws Exception {
        Path loop = Path.of("/dev/null"); // a character device: not a regular file, like a block device
        FileTarget t = new FileTarget(loop, 4096, false, false, false);
        try {
            IOException e = assertThrows(IOException.class, () -> t.resize(1 << 20, false));
            assertEquals("backing /dev/null is a block device, which cannot grow or shrink with the device; "
                    + "use a file backing, or serve a larger block device", e.getMessage());
        } finally {
            t.close();
        }
    }

    @Test
    void nullAndChainsResizeThroughToTheTarget() throws Exception {
        new NullTarget().resize(1L << 40, false);
        MemoryTarget m = new MemoryTarget(dir.resolve("c.mem"), 1 << 20);
        DeviceChain chain = new DeviceChain(List.of(), m);
        chain.resize(2 << 20, false);
        assertEquals(2 << 20, Files.size(dir.resolve("c.mem")));
        chain.close();
    }

    @Test
    void aTargetWithoutResizeRefusesInOneLine() {
        dev.ublkgateway.api.Target old = new dev.ublkgateway.api.Target() {
            @Override
            public TargetQueue openQueue(dev.ublkgateway.api.QueueContext q) {
                return null;
            }

            @Override
            public void close() {}
        };
        IOException e = assertThrows(IOException.class, () -> old.resize(1 << 20, false));
        assertTrue(e.getMessage().startsWith("this target cannot change its size while it runs"), e.getMessage());
    }
}
