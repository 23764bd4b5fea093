package dev.ublkgateway.core.nbd;

import dev.ublkgateway.core.log.LogLimiter;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A kind of log line that clients can cause as often as they like (refused connections, evicted or
 * failed handshakes, protocol errors): a few per window get through, and the next one that does says
 * how many were left out, so no client can flood the log.
 */
final class LimitedLog {
    private final LogLimiter limiter;
    private final int lines;
    private final String what;

    /** {@code what} names the suppressed lines: "; 937 more {what} not logged". */
    LimitedLog(int lines, long windowMillis, String what) {
        this.limiter = new LogLimiter(lines, windowMillis);
        this.lines = lines;
        this.what = what;
    }

    void log(Logger log, Level level, String message) {
        if (!log.isLoggable(level)) return;
        long dropped = limiter.admit();
        if (dropped < 0) return;
        if (dropped > 0) {
            message += "; " + dropped + " more " + what + " not logged (at most " + lines + " lines every "
                    + limiter.windowSeconds() + " s)";
        }
        log.log(level, message);
    }
}
