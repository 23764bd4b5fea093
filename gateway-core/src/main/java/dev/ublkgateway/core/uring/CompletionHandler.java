package dev.ublkgateway.core.uring;

/** Receives one completion; called on the ring's owner thread while it reaps. */
@FunctionalInterface
public interface CompletionHandler {
    void onCompletion(long userData, int result, int flags);
}
