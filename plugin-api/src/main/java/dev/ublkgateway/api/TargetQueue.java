package dev.ublkgateway.api;

/**
 * A target's per-queue handler. All calls come from the queue's own thread; requests on one queue
 * never run concurrently with each other, so no locking is needed for per-queue state.
 */
public interface TargetQueue extends AutoCloseable {
    /** Returned by {@link #submit} when the request will be completed later through {@link BlockRequest#complete}. */
    int PENDING = Integer.MIN_VALUE;

    /**
     * Handles a request. Returns the result at once (bytes transferred or 0 on success, -errno on
     * failure), or {@link #PENDING}.
     */
    int submit(BlockRequest request);

    /** Releases per-queue resources; called on the queue thread after its last request. */
    @Override
    default void close() {}
}
