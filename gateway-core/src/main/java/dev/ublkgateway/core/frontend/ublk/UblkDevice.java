package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * One served ublk device: creates it (ADD_DEV, SET_PARAMS, queues, START_DEV) or re-attaches to a
 * recoverable one left by a crashed server, and removes it again (STOP_DEV, DEL_DEV).
 */
public final class UblkDevice {
    private static final Logger LOG = Logger.getLogger(UblkDevice.class.getName());

    private final UblkControl control;
    private final DeviceSpec spec;
    private final Target target;
    private final List<UblkQueue> queues = new ArrayList<>();
    private DevInfo info;
    private volatile long sizeBytes;
    private int cdevFd = -1;
    private boolean stopped;

    private UblkDevice(UblkControl control, DeviceSpec spec, Target target) {
        this.control = control;
        this.spec = spec;
        this.target = target;
        this.sizeBytes = spec.sizeBytes();
    }

    /** Creates a new device and starts serving it; {@code /dev/ublkbN} exists when this returns. */
    public static UblkDevice create(UblkControl control, DeviceSpec spec, Target target, int wantedId)
            throws UblkException {
        UblkDevice d = new UblkDevice(control, spec, target);
        if (spec.batchIo() && spec.recovery()) {
            LOG.warning("device " + spec.name() + ": batch-io: true is not used with recovery: true (a live upgrade "
                    + "of a BATCH_IO device fails requests on this kernel); it runs one command per request");
        }
        if (control.unprivileged()) {
            // checked before ADD_DEV: the kernel would drop recovery silently
            String refusal = Unprivileged.deviceRefusal(spec.name(), spec.recovery()).orElse(null);
            if (refusal != null) throw new UblkException(refusal);
        }
        // online resize only where the driver has it: older kernels are asked for nothing they lack
        long resizable = (control.features() & Uapi.F_UPDATE_SIZE);
        d.info = control.addDev(new DevInfo(spec.queues(), spec.depth(), 0, spec.maxIoBytes(), wantedId, 0,
                control.unprivileged() ? unprivilegedFlags() : flags(spec, target) | resizable, 0));
        try {
            if (spec.recovery() && (d.info.flags() & Uapi.F_USER_RECOVERY) == 0) {
                throw new UblkException("this kernel's ublk driver does not support USER_RECOVERY; "
                        + "set recovery: false or use Linux >= 6.1");
            }
            LOG.info("device " + spec.name() + ": data path: " + d.dataPath().label()
                    + (d.batched() ? "; requests and answers in batches (BATCH_IO)" : ""));
            // a non-root user's commands need its char device: wait for udev to hand it over first
            if (control.unprivileged()) d.openCharDevice();
            control.setParams(d.id(), params(spec, target));
            if (!control.unprivileged()) d.openCharDevice();
            d.startQueues();
            control.startDev(d.id(), Libc.getpid());
        } catch (UblkException | RuntimeException e) {
            d.abandon();
            throw e;
        }
        return d;
    }

    /**
     * Re-attaches to a device whose server died (state QUIESCED, kept by USER_RECOVERY): the kernel
     * queued its I/O meanwhile and releases it to our queues after END_USER_RECOVERY.
     */
    public static UblkDevice recover(UblkControl control, int devId, DeviceSpec spec, Target target)
            throws UblkException {
        UblkDevice d = new UblkDevice(control, spec, target);
        DevInfo info = control.devInfo(devId);
        if ((info.flags() & Uapi.F_USER_RECOVERY) == 0) {
            throw new UblkException("device " + devId + " was not created with recovery: true; it cannot be recovered");
        }
        if (info.nrHwQueues() != spec.queues() || info.queueDepth() != spec.depth()
                || info.maxIoBufBytes() != spec.maxIoBytes()) {
            throw new UblkException("device " + devId + " has " + info.nrHwQueues() + " queues of depth "
                    + info.queueDepth() + " and max I/O " + info.maxIoBufBytes()
                    + " bytes, but the configuration says otherwise; recover with the configuration it was created with");
        }
        // Checked before START_USER_RECOVERY: once started, a recovery cannot be started over.
        if (!copiesData(info) && target.needsData()) {
            throw new UblkException("device " + devId + " was created for a target that needs no data (a null "
                    + "target without stages) and cannot serve this one; recover it with the configuration it was created with");
        }
        if (DataPath.of(info.flags()) == DataPath.ZERO_COPY && !target.capabilities().zeroCopy()) {
            throw new UblkException("device " + devId + " was created with zero copy, which this chain cannot serve "
                    + "(a stage that reads or changes data, or another target); recover it with the configuration it was created with");
        }
        // The old server's char device must be fully released first; that can lag its death briefly.
        for (int attempt = 0; ; attempt++) {
            try {
                control.startUserRecovery(devId);
                break;
            } catch (UblkException e) {
                if (e.errno() != Errno.EBUSY || attempt >= 50) {
                    if (e.errno() == Errno.EBUSY) {
                        throw new UblkException("device " + devId + " is still in use by its server (state "
                                + Uapi.stateName(control.devInfo(devId).state()) + "); stop that process first", e.errno());
                    }
                    throw e;
                }
                sleep(100);
            }
        }
        d.info = control.devInfo(devId);
        d.sizeBytes = control.params(devId).devSectors() << 9; // maybe resized since the configuration said
        try {
            d.openCharDevice();
            d.startQueues();
            control.endUserRecovery(devId, Libc.getpid());
        } catch (UblkException | RuntimeException e) {
            d.stopQueues();
            d.closeCharDevice();
            throw e;
        }
        return d;
    }

    /**
     * ADD_DEV flags. With recovery, requests in flight when a gateway dies are re-issued to the next one
     * (REISSUE) instead of failing: block writes are idempotent, so the application sees no error; QUIESCE
     * lets a live upgrade hand the device over without any (kernels without it drop the flag). A
     * chain that needs no data asks for USER_COPY and then never copies: the kernel moves no data for
     * its requests (kernels without USER_COPY drop the flag, and the queues copy as usual). A chain that
     * can work on the request's own pages asks for AUTO_BUF_REG (see {@link DataPath}). BATCH_IO where the
     * device asks for it (kernels without it drop the flag: one command per request, as before), but not
     * with recovery: on Linux 7.3 a live upgrade of a BATCH_IO device failed writes with EIO during the
     * hand-over (the kernel's quiesce cancels a batch queue as a stop does; seen in the VM test), where one
     * command per request keeps new requests waiting for the next gateway.
     */
    static long flags(DeviceSpec spec, Target target) {
        return Uapi.F_CMD_IOCTL_ENCODE
                | (spec.batchIo() && !spec.recovery() ? Uapi.F_BATCH_IO : 0)
                | (spec.recovery() ? Uapi.F_USER_RECOVERY | Uapi.F_USER_RECOVERY_REISSUE | Uapi.F_QUIESCE : 0)
                | DataPath.requestFlags(target.capabilities(), target.needsData(), spec.zeroCopy());
    }

    /**
     * ADD_DEV flags of a non-root user's device: the kernel refuses USER_COPY (so a null target's
     * requests copy as usual) and recovery for it.
     */
    static long unprivilegedFlags() {
        return Uapi.F_CMD_IOCTL_ENCODE | Uapi.F_UNPRIVILEGED_DEV;
    }

    /** False when the device was created without a data path (USER_COPY that is never used). */
    private static boolean copiesData(DevInfo info) {
        return (info.flags() & Uapi.F_USER_COPY) == 0;
    }

    /** True when the kernel hands this device's requests out in batches (BATCH_IO): its queues must take them so. */
    public boolean batched() {
        return (info.flags() & Uapi.F_BATCH_IO) != 0;
    }

    /** How this device's bytes travel, from the flags the kernel kept. */
    public DataPath dataPath() {
        return DataPath.of(info.flags());
    }

    static Params params(DeviceSpec spec, Target target) {
        int shift = Integer.numberOfTrailingZeros(spec.blockSize());
        int attrs = target.volatileCache() ? Uapi.ATTR_VOLATILE_CACHE | Uapi.ATTR_FUA : 0;
        int maxSectors = spec.maxIoBytes() >> 9;
        // Discard of up to 1 GiB per request at block granularity.
        int maxDiscard = 1 << 21;
        return new Params(attrs, shift, shift, 0, shift, maxSectors, spec.sizeBytes() >> 9,
                target.supportsDiscard(), spec.blockSize(), maxDiscard, maxDiscard);
    }

    public int id() {
        return info.devId();
    }

    public String name() {
        return spec.name();
    }

    public String blockDevice() {
        return "/dev/ublkb" + id();
    }

    public DevInfo info() {
        return info;
    }

    public int blockSize() {
        return spec.blockSize();
    }

    /** The size the kernel shows now: the configured one, or the last {@link #updateSize}'s. */
    public long sizeBytes() {
        return sizeBytes;
    }

    /** Why this device cannot change size online, or null when it can (the driver and the device have UPDATE_SIZE). */
    public String resizeUnsupported() throws UblkException {
        if ((info.flags() & Uapi.F_UPDATE_SIZE) != 0) return null;
        if ((control.features() & Uapi.F_UPDATE_SIZE) == 0) {
            return "this kernel's ublk driver lacks UPDATE_SIZE (online resize); it needs Linux "
                    + Uapi.featureSince(Long.numberOfTrailingZeros(Uapi.F_UPDATE_SIZE))
                    + " or later: stop the device, change size: in its configuration and bring it up again";
        }
        return "device " + spec.name() + " was created without UPDATE_SIZE (by an older gateway or before a kernel "
                + "update); bring it down and up again to resize it online";
    }

    /**
     * Tells the kernel the disk's new size (UPDATE_SIZE); the target must already serve it when it grows.
     * The kernel announces the change to user space (a uevent; file systems grow with resize2fs and the like).
     */
    public synchronized void updateSize(long newSizeBytes) throws UblkException {
        String why = resizeUnsupported();
        if (why != null) throw new UblkException(why);
        control.updateSize(id(), newSizeBytes >> 9);
        sizeBytes = newSizeBytes;
    }

    /** How long a non-root user's gateway waits for udev to give it its new char device ($UBLKGW_HANDOVER_SECONDS). */
    static int handOverSeconds() {
        String s = System.getenv("UBLKGW_HANDOVER_SECONDS");
        try {
            return s != null ? Math.max(1, Integer.parseInt(s.strip())) : 30;
        } catch (NumberFormatException e) {
            return 30;
        }
    }

    private void openCharDevice() throws UblkException {
        String path = Uapi.charDevice(id());
        // devtmpfs creates the node right after ADD_DEV; allow udev a moment where it is in charge. A
        // non-root user's node is root's until the udev rule's helper hands it over.
        int waitSeconds = handOverSeconds();
        long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
        boolean told = false;
        for (int attempt = 0; ; attempt++) {
            try {
                cdevFd = Libc.open(path, Libc.O_RDWR, 0);
                return;
            } catch (NativeException e) {
                boolean handOver = control.unprivileged() && (e.errno() == Errno.EACCES || e.errno() == Errno.EPERM);
                if (handOver && System.nanoTime() > deadline) {
                    throw new UblkException(Unprivileged.nodeNotHandedOver(id(), waitSeconds), e.errno());
                }
                if (!handOver && (e.errno() != Errno.ENOENT || attempt >= 100)) {
                    throw new UblkException("cannot open " + path + ": " + Libc.describe(e.errno()), e.errno());
                }
                if (handOver && !told && attempt >= 100) {
                    told = true;
                    LOG.info("device " + spec.name() + ": waiting for udev to give " + path + " to this user");
                }
                sleep(20);
            }
        }
    }

    private void startQueues() throws UblkException {
        for (int q = 0; q < spec.queues(); q++) {
            UblkQueue queue = new UblkQueue(spec.name(), q, spec.depth(), spec.maxIoBytes(), spec.pollMicros(), cdevFd,
                    dataPath(), batched(), target);
            queues.add(queue);
            queue.start();
        }
    }

    /**
     * Stops and deletes the device: STOP_DEV lets in-flight I/O finish through our queues, then the
     * queues end, the target closes (making its data durable) and DEL_DEV removes /dev/ublkcN.
     */
    public synchronized void stop() throws UblkException {
        if (stopped) return;
        stopped = true;
        UblkException first = null;
        try {
            control.stopDev(id());
        } catch (UblkException e) {
            first = e;
        }
        stopQueues();
        closeCharDevice();
        try {
            target.close();
        } catch (Exception e) {
            LOG.severe("device " + spec.name() + ": closing target: " + UblkQueue.message(e));
        }
        try {
            control.delDev(id());
        } catch (UblkException e) {
            if (first == null) first = e;
        }
        if (first != null) throw first;
    }

    /** Releases this process's hold on the device without stopping it, as a crash would (tests, recovery). */
    public synchronized void detachForRecovery() {
        stopped = true;
        stopQueues();
        closeCharDevice();
    }

    /**
     * Whether {@link #handOver} can let this device go without an I/O error: only with QUIESCE, which
     * completes what we hold. Releasing the device from a live process without it (6.12) left the next
     * server's recovery hanging in the VM test, so that is refused rather than relied on.
     */
    public boolean canHandOver() {
        return canHandOver(info.flags());
    }

    /** {@link #canHandOver()} for a device with these flags (as GET_DEV_INFO reports them). */
    public static boolean canHandOver(long flags) {
        return (flags & Uapi.F_USER_RECOVERY) != 0 && (flags & Uapi.F_QUIESCE) != 0;
    }

    /** True when the kernel quiesces this device for a hand-over (UBLK_F_QUIESCE). */
    public boolean quiesces() {
        return (info.flags() & Uapi.F_QUIESCE) != 0;
    }

    /**
     * Lets the device go to the next gateway (live upgrade), keeping it for recovery: with QUIESCE new
     * I/O waits in the kernel while our queues answer what they hold; then the queues end, the char
     * device is released (the device goes QUIESCED) and the target closes, making its data durable.
     * Without QUIESCE (or when it times out) the queues end at once and the kernel re-issues what they
     * held to the next server. Throws only when the target could not close cleanly.
     */
    public synchronized void handOver(long quiesceTimeoutMs) throws UblkException {
        if (stopped) throw new UblkException("device " + spec.name() + " is already stopped");
        stopped = true;
        if (quiesces()) {
            try {
                control.quiesceDev(id(), quiesceTimeoutMs);
            } catch (UblkException e) {
                // the queues stay canceling: finishing the hand-over is the way forward (REISSUE keeps the rest)
                LOG.warning("device " + spec.name() + ": " + e.getMessage() + "; handing over without it");
            }
        }
        stopQueues();
        closeCharDevice();
        try {
            target.close();
        } catch (Exception e) {
            throw new UblkException("device " + spec.name() + ": closing target: " + UblkQueue.message(e));
        }
    }

    /** First failure of any queue thread, or null while all are healthy. */
    public Throwable queueFailure() {
        for (UblkQueue q : queues) {
            if (q.failure() != null) return q.failure();
        }
        return null;
    }

    private void stopQueues() {
        for (UblkQueue q : queues) q.stop();
        for (UblkQueue q : queues) {
            try {
                if (!q.join(10_000)) LOG.warning("device " + spec.name() + ": queue " + q.id() + " did not stop in 10 s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void closeCharDevice() {
        Libc.close(cdevFd);
        cdevFd = -1;
    }

    /** Undoes a half-created device. */
    private void abandon() {
        stopQueues();
        closeCharDevice();
        try {
            control.delDev(id());
        } catch (UblkException e) {
            LOG.warning("cleaning up device " + id() + ": " + e.getMessage());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
