package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.stages.ReadOnlyStage;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.*;

/** Checks our encodings against the values computed from the kernel header (shared/ublk-uapi.md). */
class UapiTest {
    /** _IOC(dir, 'u', nr, size) as the kernel computes it. */
    private static int ioc(int dir, int nr, int size) {
        return dir << 30 | size << 16 | 'u' << 8 | nr;
    }

    private static final int R = 2, WR = 3;

    @Test
    void controlCommandNumbersAreIoctlEncoded() {
        assertEquals(ioc(R, 0x02, 32), Uapi.CMD_GET_DEV_INFO);
        assertEquals(ioc(WR, 0x04, 32), Uapi.CMD_ADD_DEV);
        assertEquals(ioc(WR, 0x05, 32), Uapi.CMD_DEL_DEV);
        assertEquals(ioc(WR, 0x06, 32), Uapi.CMD_START_DEV);
        assertEquals(ioc(WR, 0x07, 32), Uapi.CMD_STOP_DEV);
        assertEquals(ioc(WR, 0x08, 32), Uapi.CMD_SET_PARAMS);
        assertEquals(ioc(R, 0x09, 32), Uapi.CMD_GET_PARAMS);
        assertEquals(ioc(WR, 0x10, 32), Uapi.CMD_START_USER_RECOVERY);
        assertEquals(ioc(WR, 0x11, 32), Uapi.CMD_END_USER_RECOVERY);
        assertEquals(ioc(R, 0x13, 32), Uapi.CMD_GET_FEATURES);
        assertEquals(ioc(WR, 0x16, 32), Uapi.CMD_QUIESCE_DEV);
        assertEquals(ioc(WR, 0x17, 32), Uapi.CMD_TRY_STOP_DEV);
        assertEquals(ioc(WR, 0x15, 32), Uapi.CMD_UPDATE_SIZE);
        assertEquals(0xc0207504, Uapi.CMD_ADD_DEV);
    }

    @Test
    void ioCommandNumbersAreIoctlEncoded() {
        assertEquals(ioc(WR, 0x20, 16), Uapi.IO_FETCH_REQ);
        assertEquals(ioc(WR, 0x21, 16), Uapi.IO_COMMIT_AND_FETCH_REQ);
        assertEquals(0xc0107521, Uapi.IO_COMMIT_AND_FETCH_REQ);
        // BATCH_IO: the payload is struct ublk_batch_io, also 16 bytes
        assertEquals(ioc(WR, 0x25, 16), Uapi.IO_PREP_IO_CMDS);
        assertEquals(ioc(WR, 0x26, 16), Uapi.IO_COMMIT_IO_CMDS);
        assertEquals(ioc(WR, 0x27, 16), Uapi.IO_FETCH_IO_CMDS);
    }

    @Test
    void batchIoIsAskedForOnlyWhereTheDeviceSaysSo() {
        Target nul = new dev.ublkgateway.core.targets.NullTarget();
        DeviceSpec perRequest = new DeviceSpec("d", 1L << 30, 4096, 1, 64, 512 * 1024, false, 0, true, false);
        DeviceSpec batched = new DeviceSpec("d", 1L << 30, 4096, 1, 64, 512 * 1024, false, 0, true, true);
        assertEquals(0, UblkDevice.flags(perRequest, nul) & Uapi.F_BATCH_IO);
        assertEquals(Uapi.F_BATCH_IO, UblkDevice.flags(batched, nul) & Uapi.F_BATCH_IO);
        assertEquals(UblkDevice.flags(perRequest, nul), UblkDevice.flags(batched, nul) & ~Uapi.F_BATCH_IO);
        // not with recovery: the kernel's hand-over of a BATCH_IO device fails new requests
        DeviceSpec recoverable = new DeviceSpec("d", 1L << 30, 4096, 1, 64, 512 * 1024, true, 0, true, true);
        assertEquals(0, UblkDevice.flags(recoverable, nul) & Uapi.F_BATCH_IO);
    }

    @Test
    void descriptorArraysAreStridedByTheMaximumDepth() {
        assertEquals(0, Uapi.descOffset(0, 4096));
        assertEquals(98304, Uapi.descOffset(1, 4096));
        assertEquals(3 * 98304, Uapi.descOffset(3, 4096));
    }

    @Test
    void devInfoLayoutMatchesTheHeader() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(DevInfo.SIZE);
            s.fill((byte) 0x7f); // stale bytes must be cleared, notably state (6.12 copies it)
            new DevInfo(2, 128, 0, 512 * 1024, -1, 1234, Uapi.F_USER_RECOVERY, 0).writeTo(s);
            assertEquals(2, s.get(JAVA_SHORT, 0));
            assertEquals(128, s.get(JAVA_SHORT, 2));
            assertEquals(0, s.get(JAVA_SHORT, 4));
            assertEquals(512 * 1024, s.get(JAVA_INT, 8));
            assertEquals(-1, s.get(JAVA_INT, 12));
            assertEquals(1234, s.get(JAVA_INT, 16));
            assertEquals(Uapi.F_USER_RECOVERY, s.get(JAVA_LONG, 24));
            assertEquals(0L, s.get(JAVA_LONG, 48));
            assertEquals(0L, s.get(JAVA_LONG, 56));
            assertEquals(new DevInfo(2, 128, 0, 512 * 1024, -1, 1234, Uapi.F_USER_RECOVERY, 0), DevInfo.readFrom(s));
        }
    }

    @Test
    void paramsLayoutMatchesTheHeader() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Params.SIZE_FULL);
            Params p = new Params(Uapi.ATTR_VOLATILE_CACHE | Uapi.ATTR_FUA, 12, 12, 0, 12, 1024, 1L << 21, true,
                    4096, 1 << 21, 1 << 20);
            p.writeTo(s);
            assertEquals(60, s.get(JAVA_INT, 0));
            assertEquals(Uapi.PARAM_TYPE_BASIC | Uapi.PARAM_TYPE_DISCARD, s.get(JAVA_INT, 4));
            assertEquals(12, s.get(JAVA_INT, 8));            // attrs
            assertEquals(12, s.get(JAVA_BYTE, 12));          // logical_bs_shift
            assertEquals(1024, s.get(JAVA_INT, 16));         // max_sectors
            assertEquals(1L << 21, s.get(JAVA_LONG, 24));    // dev_sectors
            assertEquals(4096, s.get(JAVA_INT, 44));         // discard_granularity
            assertEquals(1 << 21, s.get(JAVA_INT, 48));      // max_discard_sectors
            assertEquals(1 << 20, s.get(JAVA_INT, 52));      // max_write_zeroes_sectors
            assertEquals(1, s.get(JAVA_SHORT, 56));          // max_discard_segments
            assertEquals(p, Params.readFrom(s));
        }
    }

    @Test
    void everyKnownFeatureSaysSinceWhichLinux() {
        for (int b = 0; b < Uapi.knownFeatureCount(); b++) {
            assertTrue(Uapi.featureSince(b).matches(">?\\d+\\.(\\d+|x)"), Uapi.featureName(b) + ": " + Uapi.featureSince(b));
        }
        assertEquals("6.1", Uapi.featureSince(Long.numberOfTrailingZeros(Uapi.F_USER_RECOVERY)));
        assertEquals("6.5", Uapi.featureSince(Long.numberOfTrailingZeros(Uapi.F_USER_COPY)));
        assertEquals("6.13", Uapi.featureSince(Long.numberOfTrailingZeros(Uapi.F_USER_RECOVERY_FAIL_IO)));
        assertEquals("6.16", Uapi.featureSince(Long.numberOfTrailingZeros(Uapi.F_AUTO_BUF_REG)));
        assertEquals("?", Uapi.featureSince(Uapi.knownFeatureCount()));
        assertEquals("bit 20", Uapi.featureName(20));
    }

    @Test
    void featureNamesFollowBitOrder() {
        assertEquals("USER_RECOVERY|CMD_IOCTL_ENCODE", Uapi.featureNames(Uapi.F_USER_RECOVERY | Uapi.F_CMD_IOCTL_ENCODE));
        assertEquals("URING_CMD_COMP_IN_TASK|NEED_GET_DATA|USER_RECOVERY|USER_RECOVERY_REISSUE|UNPRIVILEGED_DEV|"
                + "CMD_IOCTL_ENCODE|USER_COPY|ZONED", Uapi.featureNames(0x1fe));
        assertEquals("none", Uapi.featureNames(0));
    }

    @Test
    void deviceParamsAdvertiseCacheOnlyForVolatileTargets() {
        DeviceSpec spec = new DeviceSpec("d", 1L << 30, 4096, 1, 64, 512 * 1024, false, 0);
        Params mem = UblkDevice.params(spec, new dev.ublkgateway.core.targets.NullTarget());
        assertEquals(0, mem.attrs());
        assertEquals(12, mem.logicalBsShift());
        assertEquals(1024, mem.maxSectors());
        assertEquals((1L << 30) >> 9, mem.devSectors());
    }

    @Test
    void onlyAChainThatNeedsNoDataAsksForUserCopy() {
        DeviceSpec spec = new DeviceSpec("d", 1L << 30, 4096, 1, 64, 512 * 1024, true, 0);
        Target nul = new dev.ublkgateway.core.targets.NullTarget();
        Target dataTarget = new Target() {
            @Override public TargetQueue openQueue(QueueContext q) { return r -> 0; }
            @Override public void close() {}
        };
        long base = Uapi.F_CMD_IOCTL_ENCODE | Uapi.F_USER_RECOVERY | Uapi.F_USER_RECOVERY_REISSUE | Uapi.F_QUIESCE;
        assertEquals(base | Uapi.F_USER_COPY, UblkDevice.flags(spec, nul));
        assertEquals(base | Uapi.F_USER_COPY, UblkDevice.flags(spec, new DeviceChain(List.of(), nul)));
        // a stage may look at the data, so a null target behind one gets buffers as usual
        assertEquals(base, UblkDevice.flags(spec, new DeviceChain(List.of(new ReadOnlyStage(false)), nul)));
        assertEquals(base, UblkDevice.flags(spec, dataTarget));
        assertEquals(base, UblkDevice.flags(spec, new DeviceChain(List.of(), dataTarget)));
    }

    @Test
    void missingControlDeviceExplainsTheModule() {
        org.junit.jupiter.api.Assumptions.assumeFalse(new java.io.File(Uapi.CONTROL_DEVICE).exists(),
                "this machine has ublk_drv loaded");
        UblkException e = assertThrows(UblkException.class, UblkControl::open);
        assertTrue(e.getMessage().contains("modprobe ublk_drv"), e.getMessage());
        assertTrue(e.getMessage().contains("6.1"), e.getMessage());
    }

    @Test
    void ioStructs() {
        assertEquals(24, IoStructs.IO_DESC.byteSize());
        assertEquals(8, IoStructs.IO_DESC.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("start_sector")));
        assertEquals(16, IoStructs.IO_CMD.byteSize());
        assertEquals(4, IoStructs.IO_CMD.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("result")));
        assertEquals(8, IoStructs.IO_CMD.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("addr")));
        // struct ublk_batch_io: q_id @0, flags @2, nr_elem @4, elem_bytes @6, reserved2 @8; 16 bytes
        assertEquals(16, IoStructs.BATCH_IO.byteSize());
        assertEquals(4, IoStructs.BATCH_IO.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("nr_elem")));
        assertEquals(6, IoStructs.BATCH_IO.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("elem_bytes")));
        assertEquals(8, IoStructs.BATCH_IO.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("reserved2")));
        // struct ublk_elem_header: tag @0, buf_index @2, result @4; 8 bytes
        assertEquals(8, IoStructs.ELEM.byteSize());
        assertEquals(2, IoStructs.ELEM.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("buf_index")));
        assertEquals(4, IoStructs.ELEM.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("result")));
    }
}
