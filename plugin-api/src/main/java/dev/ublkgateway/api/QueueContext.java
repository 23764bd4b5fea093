package dev.ublkgateway.api;

/** What a target learns about the queue it serves when it opens its per-queue handler. */
public interface QueueContext {
    int queueId();

    /** The most requests in flight on this queue at once. */
    int depth();

    /** The largest single request, in bytes. */
    int maxIoBytes();
}
