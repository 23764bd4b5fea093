package dev.ublkgateway.core.queue;

/**
 * What a frontend adds to the {@link QueueEngine}: how requests arrive (through its own SQEs, whose
 * completions it is handed) and how a result is sent back. Called on the queue thread only.
 */
public interface QueueFrontend<R extends QueueRequest> {
    /** A completion of one of the frontend's own SQEs ({@link UserData#of}), with its CQE flags. */
    void onCompletion(int kind, long payload, int result, int cqeFlags);

    /** The request's final result (bytes or 0, or -errno): send it back; the tag is free again after. */
    void reply(R request, int result);

    /** Once per loop turn, after the batch of completions was handled and before the next submit. */
    default void afterBatch() {}

    /** Checked before every turn: true ends the loop. */
    boolean finished();
}
