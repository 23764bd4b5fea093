package dev.ublkgateway.core.queue;

import dev.ublkgateway.api.TargetQueue;

/** A target queue that issues SQEs on the queue's ring and is told of their completions. */
public interface RingTargetQueue extends TargetQueue {
    /** Called on the queue thread for each CQE whose user_data came from {@link RingQueueContext#targetUserData}. */
    void onRingCompletion(int tag, int cookie, int result);
}
