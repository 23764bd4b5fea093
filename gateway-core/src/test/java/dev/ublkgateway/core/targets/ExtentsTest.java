package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.DeviceChain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What the built-in targets and a device chain say about holes ({@link Target#extents}). */
class ExtentsTest {
    static final int HZ = ExtentSink.HOLE | ExtentSink.ZERO;
    static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    /** The target's extents for a range, neighbours with equal flags merged: length, flags, length, flags... */
    static List<Long> extents(Target t, long offset, long length) {
        List<Long> l = new ArrayList<>();
        assertEquals(0, t.extents(offset, length, (len, flags) -> {
            assertTrue(len > 0, "an extent is never empty");
            int n = l.size();
            if (n > 0 && l.get(n - 1) == flags) l.set(n - 2, l.get(n - 2) + len);
            else {
                l.add(len);
                l.add((long) flags);
            }
            return true;
        }));
        long sum = 0;
        for (int i = 0; i < l.size(); i += 2) sum += l.get(i);
        assertEquals(length, sum, "the extents cover the range exactly: " + l);
        return l;
    }

    @Test
    void memoryTargetReportsWrittenPagesAsDataAndDiscardedOnesAsHoles() throws Exception {
        MemoryTarget t = new MemoryTarget(dir.resolve("m.mem"), 16 * MIB);
        try (Arena a = Arena.ofConfined()) {
            TargetQueue q = t.openQueue(TestRequest.context(1));
            assertEquals(List.of(16 * MIB, (long) HZ), extents(t, 0, 16 * MIB));
            TestRequest w = new TestRequest(a, (int) MIB);
            w.buffer().fill((byte) 7);
            assertEquals((int) MIB, q.submit(w.set(BlockOp.WRITE, 0, 4 * MIB, (int) MIB)));
            assertEquals(List.of(4 * MIB, (long) HZ, MIB, 0L, 11 * MIB, (long) HZ), extents(t, 0, 16 * MIB));
            assertEquals(List.of(MIB / 2, 0L), extents(t, 4 * MIB + 4096, MIB / 2), "a range inside the data");
            assertEquals(0, q.submit(w.set(BlockOp.DISCARD, 0, 4 * MIB, 65536)));
            assertEquals(List.of(4 * MIB + 65536, (long) HZ, MIB - 65536, 0L, 11 * MIB, (long) HZ), extents(t, 0, 16 * MIB));
        } finally {
            t.close();
        }
    }

    @Test
    void fileTargetReportsTheBackingFilesHoles() throws Exception {
        Path f = dir.resolve("f.img");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(16 * MIB);
            raf.seek(8 * MIB);
            raf.write(new byte[(int) MIB]);   // zeros, but written: allocated data
        }
        FileTarget t = new FileTarget(f, 16 * MIB, false, false, false);
        try {
            assertEquals(List.of(8 * MIB, (long) HZ, MIB, 0L, 7 * MIB, (long) HZ), extents(t, 0, 16 * MIB));
        } finally {
            t.close();
        }
    }

    @Test
    void nullTargetIsAllHoleAndTheDefaultIsAllData() {
        assertEquals(List.of(MIB, (long) ExtentSink.HOLE), extents(new NullTarget(), 0, MIB));
        Target plain = new Target() { // a target built for an API before 1.3
            public TargetQueue openQueue(QueueContext q) { return r -> 0; }
            public void close() {}
        };
        assertEquals(List.of(MIB, 0L), extents(plain, 0, MIB));
    }

    @Test
    void aChainShowsHolesOnlyThroughStagesThatKeepData() throws Exception {
        final class Counting implements BlockStage {
            public StageQueue openQueue(QueueContext q) { return (r, next) -> next.submit(r); }
            public Capabilities capabilities() { return Capabilities.passThrough(); }
        }
        final class Checking implements BlockStage {
            public StageQueue openQueue(QueueContext q) { return (r, next) -> next.submit(r); }
            public Capabilities capabilities() { return Capabilities.passThrough().withData(Capabilities.DataAccess.READS); }
        }
        BlockStage cipher = q -> (r, next) -> next.submit(r); // declares nothing: may change data
        assertEquals(List.of(MIB, (long) ExtentSink.HOLE), extents(new DeviceChain(List.of(new Counting()), new NullTarget()), 0, MIB));
        assertEquals(List.of(MIB, (long) ExtentSink.HOLE), extents(new DeviceChain(List.of(new Checking()), new NullTarget()), 0, MIB));
        assertEquals(List.of(MIB, 0L), extents(new DeviceChain(List.of(new Counting(), cipher), new NullTarget()), 0, MIB));
        assertEquals(List.of(MIB, (long) ExtentSink.HOLE), extents(new DeviceChain(List.of(), new NullTarget()), 0, MIB));
    }
}
