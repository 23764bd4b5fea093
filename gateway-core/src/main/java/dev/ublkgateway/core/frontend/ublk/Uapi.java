package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.Errno;

/**
 * ublk UAPI numbers (linux/ublk_cmd.h). Struct layouts live next to their users (the I/O path's in {@link IoStructs});
 * {@code UapiTest} checks every size and offset against the reference table.
 */
public final class Uapi {
    public static final String CONTROL_DEVICE = "/dev/ublk-control";

    // Control commands, ioctl-encoded ('u', size 32).
    public static final int CMD_GET_QUEUE_AFFINITY = 0x80207501, CMD_GET_DEV_INFO = 0x80207502,
            CMD_ADD_DEV = 0xc0207504, CMD_DEL_DEV = 0xc0207505, CMD_START_DEV = 0xc0207506,
            CMD_STOP_DEV = 0xc0207507, CMD_SET_PARAMS = 0xc0207508, CMD_GET_PARAMS = 0x80207509,
            CMD_START_USER_RECOVERY = 0xc0207510, CMD_END_USER_RECOVERY = 0xc0207511,
            CMD_GET_DEV_INFO2 = 0x80207512, CMD_GET_FEATURES = 0x80207513, CMD_UPDATE_SIZE = 0xc0207515, CMD_QUIESCE_DEV = 0xc0207516, CMD_TRY_STOP_DEV = 0xc0207517;


    /** The char device of device {@code id}: unprivileged commands name it for the kernel's permission check. */
    public static String charDevice(int id) {
        return "/dev/ublkc" + id;
    }

    // IO commands, ioctl-encoded ('u', size 16).
    public static final int IO_FETCH_REQ = 0xc0107520, IO_COMMIT_AND_FETCH_REQ = 0xc0107521,
            IO_NEED_GET_DATA = 0xc0107522;
    // BATCH_IO commands ('u', size 16: struct ublk_batch_io) and their flags.
    public static final int IO_PREP_IO_CMDS = 0xc0107525, IO_COMMIT_IO_CMDS = 0xc0107526,
            IO_FETCH_IO_CMDS = 0xc0107527;
    public static final int BATCH_F_HAS_ZONE_LBA = 1, BATCH_F_HAS_BUF_ADDR = 1 << 1,
            BATCH_F_AUTO_BUF_REG_FALLBACK = 1 << 2;

    /** sqe->addr of a FETCH/COMMIT on an AUTO_BUF_REG device (struct ublk_auto_buf_reg): flags bit. */
    public static final int AUTO_BUF_REG_FALLBACK = 1;
    /** Descriptor flag: auto registration failed and fell back (only with AUTO_BUF_REG_FALLBACK). */
    public static final int IO_F_NEED_REG_BUF = 1 << 17;

    public static final int IO_RES_OK = 0, IO_RES_NEED_GET_DATA = 1, IO_RES_ABORT = -Errno.ENODEV;

    // Feature flags (dev_info.flags).
    public static final long F_SUPPORT_ZERO_COPY = 1L, F_URING_CMD_COMP_IN_TASK = 1L << 1,
            F_NEED_GET_DATA = 1L << 2, F_USER_RECOVERY = 1L << 3, F_USER_RECOVERY_REISSUE = 1L << 4,
            F_UNPRIVILEGED_DEV = 1L << 5, F_CMD_IOCTL_ENCODE = 1L << 6, F_USER_COPY = 1L << 7,
            F_ZONED = 1L << 8, F_USER_RECOVERY_FAIL_IO = 1L << 9, F_UPDATE_SIZE = 1L << 10,
            F_AUTO_BUF_REG = 1L << 11, F_QUIESCE = 1L << 12, F_PER_IO_DAEMON = 1L << 13,
            F_BUF_REG_OFF_DAEMON = 1L << 14, F_BATCH_IO = 1L << 15, F_INTEGRITY = 1L << 16,
            F_SAFE_STOP_DEV = 1L << 17, F_NO_AUTO_PART_SCAN = 1L << 18, F_SHMEM_ZC = 1L << 19;

    private static final String[] FEATURE_NAMES = {
        "SUPPORT_ZERO_COPY", "URING_CMD_COMP_IN_TASK", "NEED_GET_DATA", "USER_RECOVERY",
        "USER_RECOVERY_REISSUE", "UNPRIVILEGED_DEV", "CMD_IOCTL_ENCODE", "USER_COPY", "ZONED",
        "USER_RECOVERY_FAIL_IO", "UPDATE_SIZE", "AUTO_BUF_REG", "QUIESCE", "PER_IO_DAEMON",
        "BUF_REG_OFF_DAEMON", "BATCH_IO", "INTEGRITY", "SAFE_STOP_DEV", "NO_AUTO_PART_SCAN", "SHMEM_ZC",
    };

    /**
     * The Linux release that brought each feature bit; index = bit. From the kernel's history; the bits
     * after BUF_REG_OFF_DAEMON came after 6.18 (exact release not pinned down); 7.3 has them all.
     */
    private static final String[] FEATURE_SINCE = {
        "6.15", "6.0", "6.0", "6.1", "6.1", "6.3", "6.4", "6.5", "6.6", "6.13", "6.15", "6.16", "6.16",
        "6.16", "6.17", ">6.18", ">6.18", ">6.18", ">6.18", "7.x",
    };

    /** The first Linux release whose ublk driver has this feature bit, or "?" for bits unknown here. */
    public static String featureSince(int bit) {
        return bit < FEATURE_SINCE.length ? FEATURE_SINCE[bit] : "?";
    }

    // Device states.
    public static final int S_DEV_DEAD = 0, S_DEV_LIVE = 1, S_DEV_QUIESCED = 2, S_DEV_FAIL_IO = 3;

    // Params.
    public static final int PARAM_TYPE_BASIC = 1, PARAM_TYPE_DISCARD = 2, PARAM_TYPE_DEVT = 4;
    public static final int ATTR_READ_ONLY = 1, ATTR_ROTATIONAL = 2, ATTR_VOLATILE_CACHE = 4, ATTR_FUA = 8;

    // Limits.
    public static final int MAX_QUEUE_DEPTH = 4096, MAX_NR_QUEUES = 4096, MAX_IO_BUF_BYTES = 32 << 20;

    // Per-queue descriptor array: mmap offset base and per-queue stride.
    public static final long CMD_BUF_OFFSET = 0;
    public static final int IO_DESC_SIZE = (int) IoStructs.IO_DESC.byteSize(); // 24

    private Uapi() {}

    /** "USER_RECOVERY|CMD_IOCTL_ENCODE" for a flag mask; unknown bits as "bit N". */
    public static String featureNames(long mask) {
        StringBuilder sb = new StringBuilder();
        for (int b = 0; b < 64; b++) {
            if ((mask & (1L << b)) == 0) continue;
            if (!sb.isEmpty()) sb.append('|');
            sb.append(b < FEATURE_NAMES.length ? FEATURE_NAMES[b] : "bit " + b);
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }

    /** How many feature bits this gateway knows by name. */
    public static int knownFeatureCount() {
        return FEATURE_NAMES.length;
    }

    public static String featureName(int bit) {
        return bit < FEATURE_NAMES.length ? FEATURE_NAMES[bit] : "bit " + bit;
    }

    public static String stateName(int state) {
        return switch (state) {
            case S_DEV_DEAD -> "dead";
            case S_DEV_LIVE -> "live";
            case S_DEV_QUIESCED -> "quiesced";
            case S_DEV_FAIL_IO -> "fail-io";
            default -> "state " + state;
        };
    }

    /**
     * The packed {@code struct ublk_auto_buf_reg} a FETCH or COMMIT_AND_FETCH carries in the SQE's own addr
     * field (not in ublksrv_io_cmd): buffer index in bits 0-15, flags in 16-23, the rest reserved (0).
     * The kernel registers the tag's next request at that index of the ring's buffer table.
     */
    public static long autoBufReg(int index, int flags) {
        if (index < 0 || index > 0xffff) throw new IllegalArgumentException("buffer index " + index + " is not 0..65535");
        if (flags < 0 || flags > 0xff) throw new IllegalArgumentException("auto buffer flags " + flags + " are not 0..255");
        return index | (long) flags << 16;
    }

    /** Byte offset in /dev/ublkcN of queue {@code q}'s descriptor array: stride is the max depth's array. */
    public static long descOffset(int q, long pageSize) {
        long stride = (MAX_QUEUE_DEPTH * (long) IO_DESC_SIZE + pageSize - 1) / pageSize * pageSize;
        return CMD_BUF_OFFSET + q * stride;
    }
}
