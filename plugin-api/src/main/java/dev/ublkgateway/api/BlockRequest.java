package dev.ublkgateway.api;

import java.lang.foreign.MemorySegment;

/**
 * One block request as a target or stage sees it. Instances are owned by the frontend and reused for
 * every request on the same queue slot, so a handler must not keep a reference after completing it.
 */
public interface BlockRequest {
    /** One of the {@link BlockOp} operations. */
    int op();

    /** {@link BlockOp} flags, e.g. {@link BlockOp#FLAG_FUA}. */
    int flags();

    /** Byte offset on the device. */
    long offset();

    /** Length in bytes (0 for FLUSH). */
    int length();

    /**
     * The data: for WRITE the bytes to store, for READ the place to put them. Exactly {@link #length()}
     * bytes long; empty for FLUSH, DISCARD and WRITE_ZEROES.
     */
    MemorySegment buffer();

    /**
     * The index of this request's own pages in the queue ring's buffer table, or -1. Set only on a device
     * that runs zero copy (a target declaring {@link Capabilities#zeroCopy} behind stages that never touch
     * data): its bytes are then only reachable through fixed-buffer ring I/O on that index, and
     * {@link #buffer} is empty. Since API 1.7.
     */
    default int registeredBuffer() {
        return -1;
    }

    /** The queue this request arrived on (0-based). */
    int queue();

    /** The request's slot within its queue. */
    int tag();

    default boolean fua() {
        return (flags() & BlockOp.FLAG_FUA) != 0;
    }

    /**
     * Completes a request that {@link TargetQueue#submit} (or a stage holding it) left
     * {@link TargetQueue#PENDING}: the number of bytes transferred (or 0) on success, a negative errno
     * on failure. Safe from any thread; call it once per request.
     */
    void complete(int result);

    /**
     * Passes on a request that a stage returned {@link TargetQueue#PENDING} for without calling its
     * {@code next}: the queue's thread calls that stage's {@code next} soon, and the stage sees the
     * result in {@link StageQueue#completed}. Safe from any thread; call it once, and only for a request
     * the stage holds in this way.
     */
    default void resume() {
        throw new UnsupportedOperationException("this frontend cannot resume held requests");
    }
}
