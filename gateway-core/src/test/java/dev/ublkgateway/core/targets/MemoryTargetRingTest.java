package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.core.queue.RingTargetQueue;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/** Driven like a queue does: data comes back, and reading discarded space does not allocate it again. */
class MemoryTargetRingTest {
    private static long allocatedKiB(Path f) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", f.toString()).start();
        String[] v = new String(p.getInputStream().readAllBytes()).trim().split(" ");
        p.waitFor();
        return Long.parseLong(v[0]) * Long.parseLong(v[1]) / 1024;
    }

    @Test
    void discardedSpaceStaysFreeWhenRead() throws Exception {
        Path shm = Path.of("/dev/shm");
        Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "needs a tmpfs at /dev/shm");
        Path f = shm.resolve("ublkgw-test-" + ProcessHandle.current().pid() + "/m.mem");
        MemoryTarget t = new MemoryTarget(f, 64L << 20);
        try (FileTargetTest.Harness h = new FileTargetTest.Harness(); Arena a = Arena.ofConfined()) {
            var q = t.openQueue(h);
            h.q = new RingTargetQueue() {
                public int submit(dev.ublkgateway.api.BlockRequest r) { return q.submit(r); }
                public void onRingCompletion(int tag, int cookie, int result) { }
            };
            TestRequest w = new TestRequest(a, 1 << 20);
            for (int i = 0; i < 8; i++) {
                w.set(BlockOp.WRITE, 0, (long) i << 20, 1 << 20);
                w.buffer().fill((byte) (i + 1));
                assertEquals(1 << 20, h.run(w));
            }
            assertTrue(allocatedKiB(f) >= 8 * 1024, "written data occupies memory");
            TestRequest r = new TestRequest(a, 1 << 20);
            assertEquals(1 << 20, h.run(r.set(BlockOp.READ, 0, 3L << 20, 1 << 20)));
            assertEquals((byte) 4, r.buffer().get(JAVA_BYTE, 12345));
            assertEquals(0, h.run(w.set(BlockOp.DISCARD, 0, 0, 8 << 20)));
            assertTrue(allocatedKiB(f) < 1024, "discard returned the pages: " + allocatedKiB(f) + " KiB left");
            for (int i = 0; i < 64; i++) {
                assertEquals(1 << 20, h.run(r.set(BlockOp.READ, 0, (long) i << 20, 1 << 20)));
                assertEquals(0, r.buffer().get(JAVA_BYTE, 777));
            }
            assertTrue(allocatedKiB(f) < 1024, "reading holes allocated " + allocatedKiB(f) + " KiB");
        } finally {
            t.close();
            Files.deleteIfExists(f.getParent());
        }
    }
}
