package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.Capabilities.DataAccess;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.queue.QueueRequest;
import dev.ublkgateway.core.stages.StatsStage;
import dev.ublkgateway.core.targets.FileTarget;
import dev.ublkgateway.core.uring.Ring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.*;

/** Which data path a device asks for, and how its FETCH/COMMIT SQEs say it. */
class DataPathTest {
    @TempDir
    Path dir;

    private static final DeviceSpec SPEC = new DeviceSpec("d", 1 << 20, 4096, 1, 32, 512 << 10, false, 0);
    private static final DeviceSpec NO_ZC = new DeviceSpec("d", 1 << 20, 4096, 1, 32, 512 << 10, false, 0, false);

    /** A stage as a plugin built for an older API writes it: nothing declared, so it may change data. */
    private static final BlockStage OLD_STAGE = q -> (r, next) -> next.submit(r);
    private static final BlockStage CHECKSUM = new BlockStage() {
        public dev.ublkgateway.api.StageQueue openQueue(QueueContext q) { return (r, next) -> next.submit(r); }
        public Capabilities capabilities() { return new Capabilities(true, DataAccess.READS, false); }
    };

    private FileTarget file() throws Exception {
        return new FileTarget(dir.resolve("f.img"), 1 << 20, false, false, true);
    }

    @Test
    void theAutoBufRegWordPacksIndexAndFlags() {
        assertEquals(0L, Uapi.autoBufReg(0, 0));
        assertEquals(31L, Uapi.autoBufReg(31, 0));
        assertEquals(0xffffL | 1L << 16, Uapi.autoBufReg(0xffff, Uapi.AUTO_BUF_REG_FALLBACK));
        assertThrows(IllegalArgumentException.class, () -> Uapi.autoBufReg(1 << 16, 0));
        assertThrows(IllegalArgumentException.class, () -> Uapi.autoBufReg(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> Uapi.autoBufReg(0, 256));
        assertEquals(1L << 11, Uapi.F_AUTO_BUF_REG);
        assertEquals(1 << 17, Uapi.IO_F_NEED_REG_BUF);
    }

    @Test
    void aFileTargetAsksForZeroCopyAloneAndBehindStagesThatNeverTouchData() throws Exception {
        try (FileTarget f = file()) {
            assertTrue(f.capabilities().zeroCopy());
            assertEquals(Uapi.F_AUTO_BUF_REG, UblkDevice.flags(SPEC, f) & (Uapi.F_AUTO_BUF_REG | Uapi.F_USER_COPY));
            DeviceChain withStats = new DeviceChain(List.of(new StatsStage()), f);
            assertTrue(withStats.capabilities().zeroCopy(), "stats never touches the bytes");
            assertEquals(Uapi.F_AUTO_BUF_REG, UblkDevice.flags(SPEC, withStats) & Uapi.F_AUTO_BUF_REG);
        }
    }

    @Test
    void stagesThatNeedTheBytesOrDeclareNothingKeepTheCopyingPath() throws Exception {
        try (FileTarget f = file()) {
            for (BlockStage s : List.of(OLD_STAGE, CHECKSUM)) {
                DeviceChain chain = new DeviceChain(List.of(new StatsStage(), s), f);
                assertFalse(chain.capabilities().zeroCopy());
                assertEquals(0, UblkDevice.flags(SPEC, chain) & (Uapi.F_AUTO_BUF_REG | Uapi.F_USER_COPY));
            }
            assertEquals(0, UblkDevice.flags(NO_ZC, f) & Uapi.F_AUTO_BUF_REG, "zero-copy: false");
        }
    }

    @Test
    void targetsWithoutZeroCopyCopyAndANullTargetMovesNothing() {
        Target memoryLike = new Target() {
            public TargetQueue openQueue(QueueContext q) { return r -> 0; }
            public void close() {}
        };
        assertEquals(0, UblkDevice.flags(SPEC, memoryLike) & (Uapi.F_AUTO_BUF_REG | Uapi.F_USER_COPY));
        Target nothing = new Target() {
            public TargetQueue openQueue(QueueContext q) { return r -> 0; }
            public void close() {}
            public boolean needsData() { return false; }
            public Capabilities capabilities() { return Target.super.capabilities().withZeroCopy(true); }
        };
        assertEquals(Uapi.F_USER_COPY, UblkDevice.flags(SPEC, nothing) & (Uapi.F_AUTO_BUF_REG | Uapi.F_USER_COPY));
    }

    @Test
    void theDataPathIsReadFromTheFlagsTheKernelKept() {
        // a 6.12 kernel drops AUTO_BUF_REG from ADD_DEV's flags: the device then copies
        assertEquals(DataPath.COPY, DataPath.of(Uapi.F_CMD_IOCTL_ENCODE));
        assertEquals(DataPath.ZERO_COPY, DataPath.of(Uapi.F_CMD_IOCTL_ENCODE | Uapi.F_AUTO_BUF_REG));
        assertEquals(DataPath.NONE, DataPath.of(Uapi.F_USER_COPY));
        assertEquals("zero-copy (AUTO_BUF_REG)", DataPath.ZERO_COPY.label());
        assertEquals("copy", DataPath.COPY.label());
    }

    @Test
    void fetchAndCommitCarryTheSlotInTheSqeAddrOnAZeroCopyDevice() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sq = a.allocate(64 * 2, 64);
            UblkQueue.fillIoCommand(sq, 64, 3, 17, -5, DataPath.ZERO_COPY, 0x7000_0000L);
            assertEquals(17L, sq.get(JAVA_LONG, 64 + Ring.SQE_ADDR), "struct ublk_auto_buf_reg {index 17, flags 0}");
            assertEquals(16, Ring.SQE_ADDR, "sqe->addr, not the command's addr");
            long c = 64 + Ring.SQE_CMD;
            assertEquals(3, sq.get(JAVA_SHORT, c));
            assertEquals(17, sq.get(JAVA_SHORT, c + 2));
            assertEquals(-5, sq.get(JAVA_INT, c + 4));
            assertEquals(0L, sq.get(JAVA_LONG, c + 8), "no buffer address in ublksrv_io_cmd");

            UblkQueue.fillIoCommand(sq, 0, 0, 5, 0, DataPath.COPY, 0x7000_0000L);
            assertEquals(0L, sq.get(JAVA_LONG, Ring.SQE_ADDR));
            assertEquals(0x7000_0000L, sq.get(JAVA_LONG, Ring.SQE_CMD + 8));
            UblkQueue.fillIoCommand(sq, 0, 0, 5, 0, DataPath.NONE, 0x7000_0000L);
            assertEquals(0L, sq.get(JAVA_LONG, Ring.SQE_CMD + 8), "USER_COPY: no buffer");
        }
    }

    @Test
    void aZeroCopyRequestHasNoBytesOfOursButItsSlot() {
        QueueRequest r = new QueueRequest(null, 4, MemorySegment.NULL, 4);
        r.set(dev.ublkgateway.api.BlockOp.READ, 0, 8192, 4096);
        assertEquals(4, r.registeredBuffer());
        assertEquals(0, r.buffer().byteSize());
        assertEquals(4096, r.length());
        try (Arena a = Arena.ofConfined()) {
            QueueRequest c = new QueueRequest(null, 1, a.allocate(8192));
            c.set(dev.ublkgateway.api.BlockOp.WRITE, 0, 0, 4096);
            assertEquals(-1, c.registeredBuffer());
            assertEquals(4096, c.buffer().byteSize());
        }
    }
}
