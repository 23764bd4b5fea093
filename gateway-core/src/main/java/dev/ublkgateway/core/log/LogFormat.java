package dev.ublkgateway.core.log;

import java.util.logging.Formatter;

/** How log lines are written (`--log-format`): for people, or one JSON object per line for collectors. */
public enum LogFormat {
    TEXT, JSON;

    /** A formatter of this format; {@code traces} adds stack traces (only at debug: they are for developers). */
    public Formatter formatter(boolean traces) {
        return this == TEXT ? new TextLogFormatter(traces) : new JsonLogFormatter(traces);
    }
}
