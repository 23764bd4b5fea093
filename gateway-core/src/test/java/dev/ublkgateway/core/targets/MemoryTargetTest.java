package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.TargetQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

class MemoryTargetTest {
    @TempDir
    Path dir;

    @Test
    void storesReadsDiscardsAndSurvivesReopen() throws Exception {
        Path f = dir.resolve("m/dev.mem");
        long size = 64L << 30; // sparse: must not allocate
        try (Arena a = Arena.ofConfined()) {
            TestRequest w = new TestRequest(a, 3 * 4096);
            MemoryTarget t = new MemoryTarget(f, size);
            TargetQueue q = t.openQueue(TestRequest.context(1));
            w.set(BlockOp.WRITE, 0, 40L << 30, 3 * 4096);
            for (int i = 0; i < w.length(); i++) w.buffer().set(JAVA_BYTE, i, (byte) (i % 251 + 1));
            assertEquals(3 * 4096, q.submit(w));
            assertTrue(Files.size(f) == size && dir.toFile().getUsableSpace() > 0);
            // discard the middle page plus a partial edge: zeros there, data around it intact
            assertEquals(0, q.submit(w.set(BlockOp.DISCARD, 0, (40L << 30) + 4096 - 512, 4096 + 512)));
            TestRequest r = new TestRequest(a, 3 * 4096);
            assertEquals(3 * 4096, q.submit(r.set(BlockOp.READ, 0, 40L << 30, 3 * 4096)));
            for (int i = 0; i < 3 * 4096; i++) {
                byte expect = i >= 4096 - 512 && i < 8192 ? 0 : (byte) (i % 251 + 1);
                assertEquals(expect, r.buffer().get(JAVA_BYTE, i), "byte " + i);
            }
            assertEquals(-5, q.submit(r.set(BlockOp.READ, 0, size - 4096, 8192)), "beyond the end is EIO");
            assertEquals(-5, q.submit(r.set(BlockOp.WRITE, 0, Long.MAX_VALUE - 4095, 8192)),
                    "an offset whose end overflows a long is beyond the end too");
            assertEquals(0, q.submit(r.set(BlockOp.FLUSH, 0, 0, 0)));
            // a second mapping of the same file (a recovering gateway) sees the data
            MemoryTarget again = new MemoryTarget(f, size);
            TestRequest r2 = new TestRequest(a, 4096);
            assertEquals(4096, again.openQueue(TestRequest.context(1)).submit(r2.set(BlockOp.READ, 0, (40L << 30) + 8192, 4096)));
            assertEquals((byte) (8192 % 251 + 1), r2.buffer().get(JAVA_BYTE, 0));
            again.close();
            assertFalse(Files.exists(f), "a clean close removes the backing file");
            t.close();
        }
    }

    @Test
    void aSizeNoMachineCanMapIsOneLineWithTheFix() {
        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> new MemoryTarget(dir.resolve("huge.mem"), Long.MAX_VALUE / 4096 * 4096));
        assertTrue(e.getMessage().matches(".*cannot map 8388608\\.0 TiB: E[A-Z]+ .*; use a smaller size, or a file or chunked target"),
                e.getMessage());
    }

    @Test
    void aWriteTheKernelCannotBackIsEnospcAndTheTargetKeepsServing() throws Exception {
        Path f = dir.resolve("full/dev.mem");
        long size = 16L << 20;
        try (Arena a = Arena.ofConfined()) {
            MemoryTarget t = new MemoryTarget(f, size);
            TargetQueue q = t.openQueue(TestRequest.context(1));
            TestRequest w = new TestRequest(a, 4096);
            w.set(BlockOp.WRITE, 0, 0, 4096).buffer().fill((byte) 7);
            assertEquals(4096, q.submit(w));
            // pages past the end of the file cannot be backed (SIGBUS), as on a full tmpfs
            try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(8L << 20);
            }
            assertEquals(-28, q.submit(w.set(BlockOp.WRITE, 0, 12L << 20, 4096)), "ENOSPC, not a dead queue");
            assertEquals(4096, q.submit(w.set(BlockOp.WRITE, 0, 4096, 4096)), "writes that can be backed still work");
            TestRequest r = new TestRequest(a, 4096);
            assertEquals(4096, q.submit(r.set(BlockOp.READ, 0, 0, 4096)));
            assertEquals((byte) 7, r.buffer().get(JAVA_BYTE, 4095));
            t.close();
        }
    }
}
