package dev.ublkgateway.core.runtime;

import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One long operation of a device as its gateway publishes it ({@link ProgressFile}): what it is (flush,
 * recovery, cache-drain, discard), how many bytes in all and done, when it started and was last updated
 * (epoch milliseconds), whether it still runs, and why it failed.
 */
public record OperationProgress(String operation, long total, long done, long startedAt, long updatedAt, String state,
                                String failure) {
    public static final String RUNNING = "running", DONE = "done", FAILED = "failed";

    public long left() {
        return Math.max(0, total - done);
    }

    public boolean running() {
        return RUNNING.equals(state);
    }

    /** Bytes per second between two samples of the same operation; empty when no time passed or nothing was done. */
    public static OptionalDouble rate(OperationProgress earlier, OperationProgress later) {
        long ms = later.updatedAt - earlier.updatedAt;
        long bytes = later.done - earlier.done;
        if (ms <= 0 || bytes <= 0) return OptionalDouble.empty();
        return OptionalDouble.of(bytes * 1000.0 / ms);
    }

    /** Seconds until {@code later} is done at the rate between the two samples; empty without a rate. */
    public static OptionalLong eta(OperationProgress earlier, OperationProgress later) {
        OptionalDouble r = rate(earlier, later);
        return r.isEmpty() ? OptionalLong.empty() : OptionalLong.of((long) Math.ceil(later.left() / r.getAsDouble()));
    }
}
