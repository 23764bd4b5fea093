package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.uring.Op;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The control channel: commands to /dev/ublk-control as URING_CMDs on a small SQE128 ring (the 32-byte
 * ublksrv_ctrl_cmd does not fit a 64-byte SQE). Each command is synchronous. Thread-safe.
 */
public final class UblkControl implements AutoCloseable {
    // struct ublksrv_ctrl_cmd offsets inside sqe->cmd
    private static final long C_DEV_ID = 0, C_QUEUE_ID = 4, C_LEN = 6, C_ADDR = 8, C_DATA = 16;

    private final int fd;
    private final Ring ring;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(4096, 4096);

    private UblkControl(int fd, Ring ring) {
        this.fd = fd;
        this.ring = ring;
    }

    /** Opens the control device, explaining the usual reasons it cannot be opened. */
    public static UblkControl open() throws UblkException {
        int fd;
        try {
            fd = Libc.open(Uapi.CONTROL_DEVICE, Libc.O_RDWR, 0);
        } catch (NativeException e) {
            throw switch (e.errno()) {
                case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> new UblkException(Uapi.CONTROL_DEVICE
                        + " is missing: the ublk_drv kernel module is not loaded; run `modprobe ublk_drv` "
                        + "(needs Linux >= 6.1 built with CONFIG_BLK_DEV_UBLK)", e.errno());
                case Errno.EACCES, Errno.EPERM -> new UblkException("permission denied on "
                        + Uapi.CONTROL_DEVICE + ": ublk devices need root; run as root (e.g. with sudo)", e.errno());
                default -> new UblkException("cannot open " + Uapi.CONTROL_DEVICE + ": " + Libc.describe(e.errno()),
                        e.errno());
            };
        }
        try {
            return new UblkControl(fd, Ring.create(4, Op.SETUP_SQE128));
        } catch (UringException e) {
            Libc.close(fd);
            throw new UblkException("cannot create the control io_uring: " + e.getMessage(), e.errno());
        }
    }

    /** Sends one command; returns the kernel's non-negative result or throws naming the command. */
    private synchronized int command(String name, int cmdOp, int devId, long addr, int len, long data)
            throws UblkException {
        try {
            long s = ring.prepUringCmd(fd, cmdOp, cmdOp);
            MemorySegment sq = ring.sqes();
            long c = s + Ring.SQE_CMD;
            sq.set(JAVA_INT, c + C_DEV_ID, devId);
            sq.set(JAVA_SHORT, c + C_QUEUE_ID, (short) -1);
            sq.set(JAVA_SHORT, c + C_LEN, (short) len);
            sq.set(JAVA_LONG, c + C_ADDR, addr);
            sq.set(JAVA_LONG, c + C_DATA, data);
            int[] res = {Integer.MIN_VALUE};
            while (res[0] == Integer.MIN_VALUE) {
                ring.submitAndWait(1);
                ring.reap((ud, r, f) -> res[0] = r);
            }
            if (res[0] < 0) throw UblkException.rejected(name, -res[0]);
            return res[0];
        } catch (UringException e) {
            throw new UblkException(name + ": " + e.getMessage(), e.errno());
        }
    }

    /** Feature mask the driver supports; 0 when the kernel predates GET_FEATURES (before 6.5). */
    public synchronized long features() throws UblkException {
        MemorySegment b = scratch(8);
        try {
            command("GET_FEATURES", Uapi.CMD_GET_FEATURES, -1, b.address(), 8, 0);
        } catch (UblkException e) {
            if (e.errno() == Errno.EINVAL || e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.ENOTSUP) return 0;
            throw e;
        }
        return b.get(JAVA_LONG, 0);
    }

    /** ADD_DEV: returns the device as the kernel created it (its id and the flags it kept). */
    public synchronized DevInfo addDev(DevInfo info) throws UblkException {
        MemorySegment b = scratch(DevInfo.SIZE);
        info.writeTo(b);
        command("ADD_DEV", Uapi.CMD_ADD_DEV, info.devId(), b.address(), DevInfo.SIZE, 0);
        return DevInfo.readFrom(b);
    }

    public synchronized DevInfo devInfo(int devId) throws UblkException {
        MemorySegment b = scratch(DevInfo.SIZE);
        command("GET_DEV_INFO", Uapi.CMD_GET_DEV_INFO, devId, b.address(), DevInfo.SIZE, 0);
        return DevInfo.readFrom(b);
    }

    public synchronized void setParams(int devId, Params p) throws UblkException {
        MemorySegment b = scratch(Params.SIZE_FULL);
        p.writeTo(b);
        command("SET_PARAMS", Uapi.CMD_SET_PARAMS, devId, b.address(), Params.SIZE_SENT, 0);
    }

    public synchronized Params params(int devId) throws UblkException {
        MemorySegment b = scratch(Params.SIZE_FULL);
        b.set(JAVA_INT, Params.LEN, Params.SIZE_SENT);
        command("GET_PARAMS", Uapi.CMD_GET_PARAMS, devId, b.address(), Params.SIZE_SENT, 0);
        return Params.readFrom(b);
    }

    /** START_DEV returns once every queue has fetched all its tags; /dev/ublkbN then appears. */
    public void startDev(int devId, int pid) throws UblkException {
        command("START_DEV", Uapi.CMD_START_DEV, devId, 0, 0, pid);
    }

    public void stopDev(int devId) throws UblkException {
        command("STOP_DEV", Uapi.CMD_STOP_DEV, devId, 0, 0, 0);
    }

    public void delDev(int devId) throws UblkException {
        command("DEL_DEV", Uapi.CMD_DEL_DEV, devId, 0, 0, 0);
    }

    public void startUserRecovery(int devId) throws UblkException {
        command("START_USER_RECOVERY", Uapi.CMD_START_USER_RECOVERY, devId, 0, 0, 0);
    }

    public void endUserRecovery(int devId, int pid) throws UblkException {
        command("END_USER_RECOVERY", Uapi.CMD_END_USER_RECOVERY, devId, 0, 0, pid);
    }

    /**
     * QUIESCE_DEV (UBLK_F_QUIESCE devices): new requests wait in the kernel and the server's idle
     * commands end with ABORT, so it can finish what it holds and let the device go for recovery.
     * Waits up to {@code timeoutMs} for every queue to have an idle command (0: forever).
     */
    public void quiesceDev(int devId, long timeoutMs) throws UblkException {
        command("QUIESCE_DEV", Uapi.CMD_QUIESCE_DEV, devId, 0, 0, timeoutMs);
    }

    /** TRY_STOP_DEV (UBLK_F_SAFE_STOP_DEV kernels): STOP_DEV unless the block device is open (EBUSY). */
    public void tryStopDev(int devId) throws UblkException {
        command("TRY_STOP_DEV", Uapi.CMD_TRY_STOP_DEV, devId, 0, 0, 0);
    }

    /** UPDATE_SIZE: the disk's capacity becomes {@code sectors} (512 bytes each); needs UBLK_F_UPDATE_SIZE. */
    public void updateSize(int devId, long sectors) throws UblkException {
        command("UPDATE_SIZE", Uapi.CMD_UPDATE_SIZE, devId, 0, 0, sectors);
    }

    private MemorySegment scratch(int size) {
        MemorySegment b = buf.asSlice(0, size);
        b.fill((byte) 0);
        return b;
    }

    @Override
    public synchronized void close() {
        ring.close();
        Libc.close(fd);
        arena.close();
    }
}
