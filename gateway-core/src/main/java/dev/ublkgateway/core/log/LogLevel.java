package dev.ublkgateway.core.log;

import java.util.logging.Level;

/** The levels a user chooses from (`--log-level`), each a java.util.logging level and the name lines show. */
public enum LogLevel {
    ERROR(Level.SEVERE), WARN(Level.WARNING), INFO(Level.INFO), DEBUG(Level.FINE);

    private final Level jul;

    LogLevel(Level jul) {
        this.jul = jul;
    }

    public Level jul() {
        return jul;
    }

    /** The level a record is shown as: the nearest of ours at or below its own (FINER and FINEST are debug). */
    public static LogLevel of(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) return ERROR;
        if (v >= Level.WARNING.intValue()) return WARN;
        if (v >= Level.INFO.intValue()) return INFO;
        return DEBUG;
    }
}
