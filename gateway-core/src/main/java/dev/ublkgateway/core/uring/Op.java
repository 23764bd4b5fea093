package dev.ublkgateway.core.uring;

/** io_uring opcodes and flags used by the gateway (values from linux/io_uring.h). */
public final class Op {
    public static final byte NOP = 0, READV = 1, WRITEV = 2, FSYNC = 3, READ_FIXED = 4, WRITE_FIXED = 5,
            POLL_ADD = 6, FALLOCATE = 17, READ = 22, WRITE = 23, URING_CMD = 46;

    // setup flags
    public static final int SETUP_CQSIZE = 1 << 3, SETUP_CLAMP = 1 << 4, SETUP_SUBMIT_ALL = 1 << 7,
            SETUP_COOP_TASKRUN = 1 << 8, SETUP_TASKRUN_FLAG = 1 << 9, SETUP_SQE128 = 1 << 10, SETUP_SINGLE_ISSUER = 1 << 12,
            SETUP_DEFER_TASKRUN = 1 << 13;
    // sqe flags
    public static final byte SQE_FIXED_FILE = 1, SQE_IO_DRAIN = 2, SQE_IO_LINK = 4, SQE_ASYNC = 16,
            SQE_BUFFER_SELECT = 32;
    // uring_cmd flags (sqe->uring_cmd_flags, the rw_flags word): the command completes more than once
    public static final int URING_CMD_MULTISHOT = 1 << 1;
    // cqe flags: more completions of this SQE follow
    public static final int CQE_F_MORE = 1 << 1;
    // provided buffer ring flags: a buffer is consumed piece by piece, not whole per completion
    public static final int PBUF_RING_INC = 1 << 1;
    // fsync flags
    public static final int FSYNC_DATASYNC = 1;
    // rw flags (RWF_*)
    public static final int RWF_DSYNC = 2, RWF_SYNC = 4;
    public static final int POLLIN = 1;

    private Op() {}
}
