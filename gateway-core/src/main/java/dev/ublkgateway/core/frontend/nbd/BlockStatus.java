package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.log.LimitedLog;
import dev.ublkgateway.core.queue.QueueEngine;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * NBD_CMD_BLOCK_STATUS for base:allocation, answered at once on the connection's thread: targets answer
 * it from local metadata ({@link dev.ublkgateway.api.Target#extents}). The descriptors go into the
 * slot's buffer, which is free for them since the command moves no data.
 */
final class BlockStatus {
    private static final Logger LOG = Logger.getLogger(BlockStatus.class.getName());
    /**
     * Most descriptors in one reply: the target answers on the connection's thread, so one request's
     * work stays small; a client asks again from where the reply ended.
     */
    private static final int MAX_EXTENTS = 1024;

    private final ExtentReply extents = new ExtentReply();
    private final Export export;
    private final LimitedLog failureLog;

    BlockStatus(Export export, LimitedLog failureLog) {
        this.export = export;
        this.failureLog = failureLog;
    }

    /** Writes the descriptors of the checked range into the slot; returns 0, or -errno when the target failed. */
    int answer(Slot s, int flags, long offset, long length) {
        int max = (flags & Nbd.CMD_FLAG_REQ_ONE) != 0 ? 1 : Math.min(MAX_EXTENTS, export.maxIoBytes() / 8);
        extents.start(s.whole(), max, export.blockSize(), length);
        int r;
        try {
            r = export.target().extents(offset, length, extents);
        } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
            failureLog.log(LOG, Level.SEVERE, "nbd " + export.name() + ": target failed on BLOCK_STATUS: "
                    + QueueEngine.message(e), e);
            r = -Nbd.EIO;
        }
        if (r < 0) return r;
        s.statusBytes = extents.finish(length);
        return 0;
    }
}
