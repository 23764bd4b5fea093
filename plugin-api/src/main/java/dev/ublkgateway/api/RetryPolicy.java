package dev.ublkgateway.api;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * How a failing store call is retried: at most {@code maxAttempts} attempts, each retry after a random
 * delay between 0 and {@code baseDelay * 2^(retry-1)} (capped at {@code maxDelay}: exponential backoff with
 * full jitter, so many callers failing together do not retry together), and no retry once {@code timeout}
 * has passed since the first attempt. Only {@link #retryable} failures are retried.
 *
 * <p>Retries happen in one place per store call: a store that retries inside its calls (the S3 store, through
 * its client) reports its policy in {@link ObjectStore#retries()}, and callers then make one attempt; for a
 * store that does not, the caller applies a policy. Nothing retries on top of another retry.
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay, Duration timeout) {
    /** One attempt, no retry. */
    public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ZERO);

    /** What callers apply to stores that make no retries of their own: 4 attempts within 10 s. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(4, Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(10));

    /** A call that may fail with an I/O error. */
    @FunctionalInterface
    public interface Call<T> {
        T call() throws IOException;
    }

    public RetryPolicy {
        if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts is " + maxAttempts + "; it must be at least 1");
        if (baseDelay.isNegative() || maxDelay.isNegative() || timeout.isNegative()) {
            throw new IllegalArgumentException("delays and timeout must not be negative");
        }
    }

    /** True when this policy makes more than one attempt. */
    public boolean retries() {
        return maxAttempts > 1;
    }

    /**
     * Whether retrying can help: not for a missing file, a refused permission or an interrupt, which the
     * next attempt would meet again (or which asks to stop). Every other I/O error is taken as transient.
     */
    public static boolean retryable(IOException e) {
        return !(e instanceof FileNotFoundException || e instanceof NoSuchFileException
                || e instanceof AccessDeniedException || e instanceof InterruptedIOException);
    }

    /** The delay before retry number {@code retry} (1 for the first retry), drawn from {@code random}. */
    public Duration delay(int retry, RandomGenerator random) {
        long cap = maxDelay.toNanos(), base = baseDelay.toNanos();
        int shift = Math.min(Math.max(retry - 1, 0), 62);
        long ceiling = base > cap >> shift ? cap : base << shift; // saturates instead of overflowing
        if (ceiling <= 0) return Duration.ZERO;
        return Duration.ofNanos(random.nextLong(ceiling + 1));
    }

    /**
     * Runs {@code call} under this policy: its result, or the last failure (with the attempts made noted)
     * once the attempts or the time are used up or the failure is not retryable.
     */
    public <T> T run(String what, Call<T> call) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int attempt = 1; ; attempt++) {
            try {
                return call.call();
            } catch (IOException e) {
                if (attempt >= maxAttempts || !retryable(e)) throw attempt == 1 ? e : noted(e, attempt);
                long pause = delay(attempt, ThreadLocalRandom.current()).toNanos();
                if (System.nanoTime() + pause - deadline > 0) throw noted(e, attempt);
                try {
                    Thread.sleep(Duration.ofNanos(pause));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException(what + ": interrupted while retrying after: " + e.getMessage());
                }
            }
        }
    }

    private static IOException noted(IOException e, int attempts) {
        return new IOException(e.getMessage() + " (" + attempts + " attempts)", e);
    }
}
