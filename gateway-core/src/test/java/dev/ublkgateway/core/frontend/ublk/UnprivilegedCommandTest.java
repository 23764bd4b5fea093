package dev.ublkgateway.core.frontend.ublk;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.*;

/** How a control command names the char device for the kernel's permission check, and the refusals. */
class UnprivilegedCommandTest {
    private static String text(MemorySegment s, int from, int len) {
        return new String(s.asSlice(from, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
    }

    @Test
    void getDevInfo2IsNumberTwelveAndReads32Bytes() {
        assertEquals(2 << 30 | 32 << 16 | 'u' << 8 | 0x12, Uapi.CMD_GET_DEV_INFO2);
        assertEquals(0x80207512, Uapi.CMD_GET_DEV_INFO2);
    }

    @Test
    void aCommandWithoutPayloadCarriesOnlyThePath() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096), cmd = a.allocate(32);
            cmd.fill((byte) 0x55); // the header is written whole, padding included
            MemorySegment payload = UblkControl.layout(buf, 3, 0, true);
            int pathLen = (int) (payload.address() - buf.address());
            UblkControl.encode(cmd, 0, 3, buf.address(), pathLen, 0, 0);
            assertEquals(16, pathLen, "path and NUL, padded to 8 bytes");
            assertEquals("/dev/ublkc3\0\0\0\0\0", text(buf, 0, 16));
            assertEquals(3, cmd.get(JAVA_INT, UblkControl.C_DEV_ID));
            assertEquals(-1, cmd.get(JAVA_SHORT, UblkControl.C_QUEUE_ID));
            assertEquals(16, cmd.get(JAVA_SHORT, UblkControl.C_LEN));
            assertEquals(buf.address(), cmd.get(JAVA_LONG, UblkControl.C_ADDR));
            assertEquals(0, cmd.get(JAVA_LONG, UblkControl.C_DATA));
            assertEquals(16, cmd.get(JAVA_SHORT, UblkControl.C_DEV_PATH_LEN));
            assertEquals(0, cmd.get(JAVA_SHORT, UblkControl.C_PAD));
            assertEquals(0, cmd.get(JAVA_INT, UblkControl.C_RESERVED));
        }
    }

    @Test
    void thePayloadFollowsThePathAndLenCoversBoth() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096), cmd = a.allocate(32);
            buf.fill((byte) 0x7f);
            MemorySegment payload = UblkControl.layout(buf, 1234, Params.SIZE_FULL, true);
            int pathLen = (int) (payload.address() - buf.address());
            payload.set(JAVA_INT, Params.LEN, Params.SIZE_SENT);
            UblkControl.encode(cmd, 0, 1234, buf.address(), pathLen, Params.SIZE_SENT, 0);
            assertEquals(16, pathLen);
            assertEquals(0, payload.address() % 8, "the payload stays aligned for DevInfo and Params");
            assertEquals("/dev/ublkc1234\0\0", text(buf, 0, pathLen));
            assertEquals(Params.SIZE_SENT, buf.get(JAVA_INT, pathLen), "the kernel reads the payload after the path");
            assertEquals(0, buf.get(JAVA_INT, pathLen + 4), "the payload is zeroed");
            assertEquals(pathLen + Params.SIZE_SENT, cmd.get(JAVA_SHORT, UblkControl.C_LEN));
            assertEquals(pathLen, cmd.get(JAVA_SHORT, UblkControl.C_DEV_PATH_LEN));
            assertEquals(buf.address(), cmd.get(JAVA_LONG, UblkControl.C_ADDR));
        }
    }

    @Test
    void longIdsStillFitAndStayAligned() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            MemorySegment payload = UblkControl.layout(buf, 1048575, DevInfo.SIZE, true);
            assertEquals(24, payload.address() - buf.address()); // 17 bytes of path and NUL
            assertEquals("/dev/ublkc1048575\0", text(buf, 0, 18));
            new DevInfo(1, 1, 0, 4096, 1048575, 0, 0, 0).writeTo(payload); // aligned accesses succeed
        }
    }

    @Test
    void startDevCarriesThePidAsData() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096), cmd = a.allocate(32);
            MemorySegment payload = UblkControl.layout(buf, 0, 0, true);
            UblkControl.encode(cmd, 0, 0, buf.address(), (int) (payload.address() - buf.address()), 0, 4321);
            assertEquals(4321, cmd.get(JAVA_LONG, UblkControl.C_DATA));
            assertEquals(16, cmd.get(JAVA_SHORT, UblkControl.C_DEV_PATH_LEN)); // "/dev/ublkc0", NUL, padding
        }
    }

    @Test
    void rootsCommandsOnItsOwnDevicesAreAsBefore() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096), cmd = a.allocate(32);
            MemorySegment payload = UblkControl.layout(buf, 5, DevInfo.SIZE, false);
            assertEquals(buf.address(), payload.address());
            UblkControl.encode(cmd, 0, 5, buf.address(), 0, DevInfo.SIZE, 0);
            assertEquals(DevInfo.SIZE, cmd.get(JAVA_SHORT, UblkControl.C_LEN));
            assertEquals(0, cmd.get(JAVA_SHORT, UblkControl.C_DEV_PATH_LEN));
            UblkControl.encode(cmd, 0, 5, buf.address(), 0, 0, 0);
            assertEquals(0, cmd.get(JAVA_LONG, UblkControl.C_ADDR), "no buffer at all without path and payload");
            assertEquals(0, cmd.get(JAVA_SHORT, UblkControl.C_LEN));
        }
    }

    @Test
    void devInfoCarriesTheOwnerAndTheUnprivilegedFlag() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(DevInfo.SIZE);
            new DevInfo(1, 64, 1, 1 << 19, 7, 99, Uapi.F_UNPRIVILEGED_DEV, 0, 1500, 1600).writeTo(s);
            assertEquals(1500, s.get(JAVA_INT, 40));
            assertEquals(1600, s.get(JAVA_INT, 44));
            DevInfo back = DevInfo.readFrom(s);
            assertTrue(back.unprivileged());
            assertEquals(1500, back.ownerUid());
            assertEquals(1600, back.ownerGid());
            assertFalse(new DevInfo(1, 64, 1, 1 << 19, 7, 99, Uapi.F_USER_RECOVERY, 0).unprivileged());
        }
    }

    @Test
    void nonRootDevicesAskForNeitherUserCopyNorRecovery() {
        long f = UblkDevice.unprivilegedFlags();
        assertEquals(Uapi.F_UNPRIVILEGED_DEV | Uapi.F_CMD_IOCTL_ENCODE, f);
        assertEquals(0, f & (Uapi.F_USER_COPY | Uapi.F_SUPPORT_ZERO_COPY | Uapi.F_AUTO_BUF_REG | Uapi.F_USER_RECOVERY));
    }

    @Test
    void refusalsAreOneLineAndNameTheFix() {
        assertTrue(Unprivileged.kernelRefusal(Uapi.F_UNPRIVILEGED_DEV | Uapi.F_USER_COPY).isEmpty());
        String k = Unprivileged.kernelRefusal(0x1dfL).orElseThrow(); // 0x1fe without bit 5
        assertTrue(k.contains("UNPRIVILEGED_DEV") && k.contains("run as root") && k.contains("--frontend nbd"), k);
        assertTrue(Unprivileged.deviceRefusal("d0", false).isEmpty());
        String r = Unprivileged.deviceRefusal("d0", true).orElseThrow();
        assertEquals("device d0: recovery: true needs root (the kernel keeps no device of a non-root user for "
                + "recovery); set recovery: false, or run `up` as root (e.g. with sudo)", r);
        String n = Unprivileged.notYours(4, "down");
        assertTrue(n.contains("/dev/ublkc4") && n.endsWith("run `sudo ublk-gateway down 4`"), n);
        String c = Unprivileged.controlDenied();
        assertTrue(c.startsWith("permission denied on /dev/ublk-control") && c.contains("ublk") && c.contains("README"), c);
        String h = Unprivileged.nodeNotHandedOver(2, 30);
        assertTrue(h.startsWith("cannot open /dev/ublkc2: permission denied for 30 s") && h.contains("udev rule")
                && h.endsWith("`sudo ublk-gateway down 2`"), h);
        for (String m : new String[] {k, r, n, c, h, Unprivileged.recoverRefused()}) assertFalse(m.contains("\n"), m);
    }
}
