package dev.ublkgateway.api;

/**
 * A block stage's per-queue handler, in the manner of a filter: it sees each request on its way to the
 * target and decides to pass it on ({@code next.submit(request)}), answer it itself, or fail it.
 * All calls come from the queue's own thread.
 */
public interface StageQueue extends AutoCloseable {
    /**
     * Handles a request on its way down. Returns what {@code next.submit} returned (possibly changed),
     * or its own result without calling {@code next}. When {@code next} returns
     * {@link TargetQueue#PENDING}, return {@code PENDING} too: {@link #completed} then runs when the
     * request finishes.
     */
    int submit(BlockRequest request, TargetQueue next);

    /**
     * Called on the way back for a request that went {@link TargetQueue#PENDING}; returns the result to
     * pass up (usually {@code result} unchanged). For READ the buffer holds the data by now.
     */
    default int completed(BlockRequest request, int result) {
        return result;
    }

    /** Releases per-queue resources. */
    @Override
    default void close() {}
}
