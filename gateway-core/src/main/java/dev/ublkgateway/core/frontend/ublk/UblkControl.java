package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Caller;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.uring.Op;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The control channel: commands to /dev/ublk-control as URING_CMDs on a small SQE128 ring (the 32-byte
 * ublksrv_ctrl_cmd does not fit a 64-byte SQE). Each command is synchronous. Thread-safe.
 *
 * <p>For a device a non-root user created (UNPRIVILEGED_DEV) the kernel checks every command against
 * the permissions of its char device: the command buffer then starts with that path ("/dev/ublkcN"
 * and NULs, {@code dev_path_len} bytes) and the payload follows it. A non-root caller names the
 * path on every command but ADD_DEV and GET_FEATURES; root names it for the devices it learnt are
 * unprivileged, and always for GET_DEV_INFO2.
 */
public final class UblkControl implements AutoCloseable {
    // struct ublksrv_ctrl_cmd offsets inside sqe->cmd
    static final long C_DEV_ID = 0, C_QUEUE_ID = 4, C_LEN = 6, C_ADDR = 8, C_DATA = 16, C_DEV_PATH_LEN = 24,
            C_PAD = 26, C_RESERVED = 28;

    private final int fd;
    private final Ring ring;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(4096, 4096);
    /** Not root: the kernel creates our devices unprivileged and checks each command against their char device. */
    private final boolean unprivileged;
    /** Devices root learnt were created by a non-root user: their commands name their char device too. */
    private final Set<Integer> unprivilegedDevices = ConcurrentHashMap.newKeySet();
    private long features = -1;
    /** Bytes of the char-dev path at the start of {@link #buf} for the command being prepared. */
    private int pathLen;

    private UblkControl(int fd, Ring ring, boolean unprivileged) {
        this.fd = fd;
        this.ring = ring;
        this.unprivileged = unprivileged;
    }

    /** Opens the control device, explaining the usual reasons it cannot be opened. */
    public static UblkControl open() throws UblkException {
        boolean root = Caller.isRoot();
        int fd;
        try {
            fd = Libc.open(Uapi.CONTROL_DEVICE, Libc.O_RDWR, 0);
        } catch (NativeException e) {
            throw switch (e.errno()) {
                case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> new UblkException(Uapi.CONTROL_DEVICE
                        + " is missing: the ublk_drv kernel module is not loaded; run `modprobe ublk_drv` "
                        + "(needs Linux >= 6.1 built with CONFIG_BLK_DEV_UBLK)", e.errno());
                case Errno.EACCES, Errno.EPERM -> new UblkException(root ? "permission denied on "
                        + Uapi.CONTROL_DEVICE + " even for root; check its mode and any security module"
                        : Unprivileged.controlDenied(), e.errno());
                default -> new UblkException("cannot open " + Uapi.CONTROL_DEVICE + ": " + Libc.describe(e.errno()),
                        e.errno());
            };
        }
        try {
            return new UblkControl(fd, Ring.create(4, Op.SETUP_SQE128), !root);
        } catch (UringException e) {
            Libc.close(fd);
            throw new UblkException("cannot create the control io_uring: " + e.getMessage(), e.errno());
        }
    }

    /** True when the kernel treats this caller as a non-root user: its devices are UNPRIVILEGED_DEV. */
    public boolean unprivileged() {
        return unprivileged;
    }

    /**
     * Lays out the command buffer for a command on {@code devId}: its char-dev path first when
     * {@code withPath}, then {@code size} zeroed payload bytes, which are returned.
     */
    private MemorySegment prepare(int devId, int size, boolean withPath) {
        MemorySegment b = layout(buf, devId, size, withPath);
        pathLen = (int) (b.address() - buf.address());
        return b;
    }

    /** {@link #prepare} on any buffer: the path (if wanted) at its start, the zeroed payload right after. */
    static MemorySegment layout(MemorySegment buffer, int devId, int size, boolean withPath) {
        int at = withPath ? writePath(buffer, devId) : 0;
        MemorySegment b = buffer.asSlice(at, size);
        b.fill((byte) 0);
        return b;
    }

    /**
     * Writes "/dev/ublkcN" and NULs up to the next multiple of 8 at the start of {@code b}; returns
     * dev_path_len. The kernel reads the path up to its first NUL, and the payload after it stays
     * aligned for the structs laid over it.
     */
    static int writePath(MemorySegment b, int devId) {
        byte[] path = Uapi.charDevice(devId).getBytes(StandardCharsets.US_ASCII);
        int len = (path.length + 1 + 7) & ~7;
        b.asSlice(0, len).fill((byte) 0);
        MemorySegment.copy(path, 0, b, JAVA_BYTE, 0, path.length);
        return len;
    }

    /**
     * Fills a struct ublksrv_ctrl_cmd at {@code at}: the buffer at {@code bufAddr} holds {@code pathLen}
     * bytes of char-dev path, then {@code payloadLen} bytes of payload (the kernel skips the path after
     * its permission check).
     */
    static void encode(MemorySegment cmd, long at, int devId, long bufAddr, int pathLen, int payloadLen, long data) {
        int len = pathLen + payloadLen;
        cmd.set(JAVA_INT, at + C_DEV_ID, devId);
        cmd.set(JAVA_SHORT, at + C_QUEUE_ID, (short) -1);
        cmd.set(JAVA_SHORT, at + C_LEN, (short) len);
        cmd.set(JAVA_LONG, at + C_ADDR, len == 0 ? 0 : bufAddr);
        cmd.set(JAVA_LONG, at + C_DATA, data);
        cmd.set(JAVA_SHORT, at + C_DEV_PATH_LEN, (short) pathLen);
        cmd.set(JAVA_SHORT, at + C_PAD, (short) 0);
        cmd.set(JAVA_INT, at + C_RESERVED, 0);
    }

    /** Whether commands on {@code devId} name its char device: always for a non-root caller. */
    private boolean pathFor(int devId) {
        return unprivileged || unprivilegedDevices.contains(devId);
    }

    /**
     * Sends the command prepared in {@link #buf} ({@link #prepare}; {@code payloadLen} 0 for none);
     * returns the kernel's non-negative result or throws naming the command.
     */
    private synchronized int command(String name, int cmdOp, int devId, int payloadLen, long data)
            throws UblkException {
        try {
            long s = ring.prepUringCmd(fd, cmdOp, cmdOp);
            encode(ring.sqes(), s + Ring.SQE_CMD, devId, buf.address(), pathLen, payloadLen, data);
            int[] res = {Integer.MIN_VALUE};
            while (res[0] == Integer.MIN_VALUE) {
                ring.submitAndWait(1);
                ring.reap((ud, r, f) -> res[0] = r);
            }
            if (res[0] < 0) throw UblkException.rejected(name, -res[0]);
            return res[0];
        } catch (UringException e) {
            throw new UblkException(name + ": " + e.getMessage(), e.errno());
        } finally {
            pathLen = 0;
        }
    }

    /** A command without payload on {@code devId}. */
    private int simple(String name, int cmdOp, int devId, long data) throws UblkException {
        synchronized (this) {
            prepare(devId, 0, pathFor(devId));
            return command(name, cmdOp, devId, 0, data);
        }
    }

    /** Feature mask the driver supports; 0 when the kernel predates GET_FEATURES (before 6.5). */
    public synchronized long features() throws UblkException {
        if (features >= 0) return features;
        MemorySegment b = prepare(-1, 8, false);
        try {
            command("GET_FEATURES", Uapi.CMD_GET_FEATURES, -1, 8, 0);
        } catch (UblkException e) {
            if (e.errno() == Errno.EINVAL || e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.ENOTSUP) return features = 0;
            throw e;
        }
        return features = b.get(JAVA_LONG, 0);
    }

    /** ADD_DEV: returns the device as the kernel created it (its id and the flags it kept). */
    public synchronized DevInfo addDev(DevInfo info) throws UblkException {
        MemorySegment b = prepare(info.devId(), DevInfo.SIZE, false); // no device yet: nothing to check
        info.writeTo(b);
        command("ADD_DEV", Uapi.CMD_ADD_DEV, info.devId(), DevInfo.SIZE, 0);
        DevInfo created = DevInfo.readFrom(b);
        if (created.unprivileged()) unprivilegedDevices.add(created.devId());
        return created;
    }

    /**
     * The device as the kernel has it. With UNPRIVILEGED_DEV in the kernel this is GET_DEV_INFO2, which
     * names the char device and so works for any device the caller may read, whoever created it.
     */
    public synchronized DevInfo devInfo(int devId) throws UblkException {
        boolean info2 = (features() & Uapi.F_UNPRIVILEGED_DEV) != 0;
        MemorySegment b = prepare(devId, DevInfo.SIZE, info2 || pathFor(devId));
        try {
            command(info2 ? "GET_DEV_INFO2" : "GET_DEV_INFO", info2 ? Uapi.CMD_GET_DEV_INFO2 : Uapi.CMD_GET_DEV_INFO,
                    devId, DevInfo.SIZE, 0);
        } catch (UblkException e) {
            // root without the node (e.g. a container's /dev): ask by id alone, as before GET_DEV_INFO2
            if (!info2 || unprivileged || e.errno() != Errno.ENOENT) throw e;
            b = prepare(devId, DevInfo.SIZE, false);
            command("GET_DEV_INFO", Uapi.CMD_GET_DEV_INFO, devId, DevInfo.SIZE, 0);
        }
        DevInfo info = DevInfo.readFrom(b);
        if (info.unprivileged()) unprivilegedDevices.add(devId);
        return info;
    }

    public synchronized void setParams(int devId, Params p) throws UblkException {
        MemorySegment b = prepare(devId, Params.SIZE_FULL, pathFor(devId));
        p.writeTo(b);
        command("SET_PARAMS", Uapi.CMD_SET_PARAMS, devId, Params.SIZE_SENT, 0);
    }

    public synchronized Params params(int devId) throws UblkException {
        MemorySegment b = prepare(devId, Params.SIZE_FULL, pathFor(devId));
        b.set(JAVA_INT, Params.LEN, Params.SIZE_SENT);
        command("GET_PARAMS", Uapi.CMD_GET_PARAMS, devId, Params.SIZE_SENT, 0);
        return Params.readFrom(b);
    }

    /** START_DEV returns once every queue has fetched all its tags; /dev/ublkbN then appears. */
    public void startDev(int devId, int pid) throws UblkException {
        simple("START_DEV", Uapi.CMD_START_DEV, devId, pid);
    }

    public void stopDev(int devId) throws UblkException {
        simple("STOP_DEV", Uapi.CMD_STOP_DEV, devId, 0);
    }

    public void delDev(int devId) throws UblkException {
        simple("DEL_DEV", Uapi.CMD_DEL_DEV, devId, 0);
    }

    public void startUserRecovery(int devId) throws UblkException {
        simple("START_USER_RECOVERY", Uapi.CMD_START_USER_RECOVERY, devId, 0);
    }

    public void endUserRecovery(int devId, int pid) throws UblkException {
        simple("END_USER_RECOVERY", Uapi.CMD_END_USER_RECOVERY, devId, pid);
    }

    /**
     * QUIESCE_DEV (UBLK_F_QUIESCE devices): new requests wait in the kernel and the server's idle
     * commands end with ABORT, so it can finish what it holds and let the device go for recovery.
     * Waits up to {@code timeoutMs} for every queue to have an idle command (0: forever).
     */
    public void quiesceDev(int devId, long timeoutMs) throws UblkException {
        simple("QUIESCE_DEV", Uapi.CMD_QUIESCE_DEV, devId, timeoutMs);
    }

    /** TRY_STOP_DEV (UBLK_F_SAFE_STOP_DEV kernels): STOP_DEV unless the block device is open (EBUSY). */
    public void tryStopDev(int devId) throws UblkException {
        simple("TRY_STOP_DEV", Uapi.CMD_TRY_STOP_DEV, devId, 0);
    }

    /** UPDATE_SIZE: the disk's capacity becomes {@code sectors} (512 bytes each); needs UBLK_F_UPDATE_SIZE. */
    public void updateSize(int devId, long sectors) throws UblkException {
        simple("UPDATE_SIZE", Uapi.CMD_UPDATE_SIZE, devId, sectors);
    }

    @Override
    public synchronized void close() {
        ring.close();
        Libc.close(fd);
        arena.close();
    }
}
