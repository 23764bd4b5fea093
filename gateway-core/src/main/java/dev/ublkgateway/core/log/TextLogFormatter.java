package dev.ublkgateway.core.log;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/** "2026-01-31 12:00:00 WARN message": one line per record; a stack trace follows only at debug. */
final class TextLogFormatter extends Formatter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneId.systemDefault());
    private final boolean traces;

    TextLogFormatter(boolean traces) {
        this.traces = traces;
    }

    @Override
    public String format(LogRecord r) {
        StringBuilder sb = new StringBuilder(128).append(TIME.format(r.getInstant())).append(' ')
                .append(LogLevel.of(r.getLevel())).append(' ').append(formatMessage(r));
        String error = LogFields.error(r, traces);
        if (error != null) sb.append(traces ? System.lineSeparator() : " (").append(error).append(traces ? "" : ")");
        return sb.append(System.lineSeparator()).toString();
    }
}
