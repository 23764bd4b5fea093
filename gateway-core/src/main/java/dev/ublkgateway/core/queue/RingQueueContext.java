package dev.ublkgateway.core.queue;

import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.core.uring.Ring;

/**
 * What built-in targets get beyond the public {@link QueueContext}: the queue's own ring, so their file
 * I/O shares the submit/wait cycle with the frontend's own SQEs (one syscall per batch, like ublksrv's loop).
 */
public interface RingQueueContext extends QueueContext {
    Ring ring();

    /** user_data for a target SQE issued for {@code tag}; its completion reaches {@link RingTargetQueue}. */
    long targetUserData(int tag, int cookie);
}
