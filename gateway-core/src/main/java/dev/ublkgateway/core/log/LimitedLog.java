package dev.ublkgateway.core.log;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A kind of log line that something outside the gateway's control can cause as often as it likes
 * (NBD clients: refused connections, evicted or failed handshakes; scripts: their log lines and
 * failures; plugins: a stage or target that throws on every request): a few per window get through,
 * and the next one that does says how many were left out, so nothing can flood the log.
 */
public final class LimitedLog {
    private final LogLimiter limiter;
    private final int lines;
    private final String what;

    /** {@code what} names the suppressed lines: "; 937 more {what} not logged". */
    public LimitedLog(int lines, long windowMillis, String what) {
        this.limiter = new LogLimiter(lines, windowMillis);
        this.lines = lines;
        this.what = what;
    }

    public void log(Logger log, Level level, String message) {
        log(log, level, message, null);
    }

    /** As {@link #log(Logger, Level, String)}, with the exception's stack trace for the lines that pass. */
    public void log(Logger log, Level level, String message, Throwable thrown) {
        if (!log.isLoggable(level)) return;
        long dropped = limiter.admit();
        if (dropped < 0) return;
        if (dropped > 0) {
            message += "; " + dropped + " more " + what + " not logged (at most " + lines
                    + (lines == 1 ? " line every " : " lines every ") + limiter.windowSeconds() + " s)";
        }
        log.log(level, message, thrown);
    }
}
