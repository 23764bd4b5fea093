package dev.ublkgateway.core.log;

/**
 * Lets at most {@code lines} log lines through per window; the rest are counted, and the next line
 * that passes learns how many were dropped so it can say so. Shared by every source a client or a
 * script can make talk (refused NBD connections, script logs and failures), so none can flood the log.
 */
public final class LogLimiter {
    private final java.util.function.LongSupplier clock;
    private final int lines;
    private final long windowNanos;
    private long windowStart;
    private int used;
    private long suppressed;

    public LogLimiter(int lines, long windowMillis) {
        this(lines, windowMillis, System::nanoTime);
    }

    LogLimiter(int lines, long windowMillis, java.util.function.LongSupplier clock) {
        this.clock = clock;
        if (lines < 1 || windowMillis < 1) throw new IllegalArgumentException("lines and window must be positive");
        this.lines = lines;
        this.windowNanos = windowMillis * 1_000_000L;
        this.windowStart = clock.getAsLong();
    }

    /**
     * Asks to log one line now: -1 when it must be dropped (it is counted), otherwise how many lines
     * were dropped since the last one that passed (0 normally), for the caller to report first.
     */
    public synchronized long admit() {
        long now = clock.getAsLong();
        if (now - windowStart >= windowNanos) {
            windowStart = now;
            used = 0;
        }
        if (used >= lines) {
            suppressed++;
            return -1;
        }
        used++;
        long s = suppressed;
        suppressed = 0;
        return s;
    }

    /** The window length in whole seconds, for messages ("... in the last 10 s"). */
    public long windowSeconds() {
        return Math.max(1, windowNanos / 1_000_000_000L);
    }
}
