package dev.ublkgateway.api;

/**
 * A block stage's per-queue handler, in the manner of a filter: it sees each request on its way to the
 * target and decides to pass it on ({@code next.submit(request)}), answer it itself, or fail it.
 * All calls come from the queue's own thread.
 *
 * <p>Slow work need not hold up the queue. A stage may return {@link TargetQueue#PENDING} on its own
 * (having not called {@code next}, or having had its answer from {@code next} already) and keep the
 * request; later, from any thread, it either calls {@link BlockRequest#complete} with its answer, or,
 * if it never called {@code next}, {@link BlockRequest#resume} to pass the request on from the queue's
 * thread, whose result then reaches this stage's {@link #completed}. The queue serves other requests
 * meanwhile. The fast path (answer at once) costs nothing extra.
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
     * Called on the way back, on the queue's thread, for a request that went {@link TargetQueue#PENDING}
     * below this stage (or after this stage resumed it); returns the result to pass up (usually
     * {@code result} unchanged). For READ the buffer holds the data by now. Not called for a request
     * this stage answered itself through {@link BlockRequest#complete}.
     */
    default int completed(BlockRequest request, int result) {
        return result;
    }

    /** Releases per-queue resources. */
    @Override
    default void close() {}
}
