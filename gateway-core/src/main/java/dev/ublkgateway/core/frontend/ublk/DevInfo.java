package dev.ublkgateway.core.frontend.ublk;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** struct ublksrv_ctrl_dev_info (64 bytes), as a value. */
public record DevInfo(int nrHwQueues, int queueDepth, int state, int maxIoBufBytes, int devId, int serverPid,
                      long flags, long serverFlags, int ownerUid, int ownerGid) {
    public static final int SIZE = 64;
    static final long NR_HW_QUEUES = 0, QUEUE_DEPTH = 2, STATE = 4, MAX_IO_BUF_BYTES = 8, DEV_ID = 12,
            SERVER_PID = 16, FLAGS = 24, SERVER_FLAGS = 32, OWNER_UID = 40, OWNER_GID = 44;

    /** A device to create: the kernel fills in its owner (the caller) and server pid. */
    public DevInfo(int nrHwQueues, int queueDepth, int state, int maxIoBufBytes, int devId, int serverPid,
                   long flags, long serverFlags) {
        this(nrHwQueues, queueDepth, state, maxIoBufBytes, devId, serverPid, flags, serverFlags, 0, 0);
    }

    /** Writes this into a 64-byte buffer, zeroing everything else (6.12 copies state from us: it must be 0). */
    void writeTo(MemorySegment s) {
        s.asSlice(0, SIZE).fill((byte) 0);
        s.set(JAVA_SHORT, NR_HW_QUEUES, (short) nrHwQueues);
        s.set(JAVA_SHORT, QUEUE_DEPTH, (short) queueDepth);
        s.set(JAVA_SHORT, STATE, (short) state);
        s.set(JAVA_INT, MAX_IO_BUF_BYTES, maxIoBufBytes);
        s.set(JAVA_INT, DEV_ID, devId);
        s.set(JAVA_INT, SERVER_PID, serverPid);
        s.set(JAVA_LONG, FLAGS, flags);
        s.set(JAVA_LONG, SERVER_FLAGS, serverFlags);
        s.set(JAVA_INT, OWNER_UID, ownerUid);
        s.set(JAVA_INT, OWNER_GID, ownerGid);
    }

    static DevInfo readFrom(MemorySegment s) {
        return new DevInfo(Short.toUnsignedInt(s.get(JAVA_SHORT, NR_HW_QUEUES)),
                Short.toUnsignedInt(s.get(JAVA_SHORT, QUEUE_DEPTH)),
                Short.toUnsignedInt(s.get(JAVA_SHORT, STATE)), s.get(JAVA_INT, MAX_IO_BUF_BYTES),
                s.get(JAVA_INT, DEV_ID), s.get(JAVA_INT, SERVER_PID), s.get(JAVA_LONG, FLAGS),
                s.get(JAVA_LONG, SERVER_FLAGS), s.get(JAVA_INT, OWNER_UID), s.get(JAVA_INT, OWNER_GID));
    }

    /** True for a device a non-root user created (UNPRIVILEGED_DEV): its commands carry its char-dev path. */
    public boolean unprivileged() {
        return (flags & Uapi.F_UNPRIVILEGED_DEV) != 0;
    }

    public String stateName() {
        return Uapi.stateName(state);
    }
}
