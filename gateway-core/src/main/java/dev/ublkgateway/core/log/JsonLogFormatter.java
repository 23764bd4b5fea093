package dev.ublkgateway.core.log;

import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line: {@code time} (ISO-8601 UTC), {@code level} (error, warn, info, debug),
 * {@code logger}, {@code message}, and when known {@code device} and {@code error}.
 */
final class JsonLogFormatter extends Formatter {
    private final boolean traces;

    JsonLogFormatter(boolean traces) {
        this.traces = traces;
    }

    @Override
    public String format(LogRecord r) {
        String message = formatMessage(r);
        StringBuilder sb = new StringBuilder(160).append('{');
        field(sb, "time", r.getInstant().toString());
        field(sb.append(','), "level", LogLevel.of(r.getLevel()).name().toLowerCase(java.util.Locale.ROOT));
        field(sb.append(','), "logger", r.getLoggerName() == null ? "" : r.getLoggerName());
        field(sb.append(','), "message", message);
        String device = LogFields.device(message);
        if (device != null) field(sb.append(','), "device", device);
        String error = LogFields.error(r, traces);
        if (error != null) field(sb.append(','), "error", error);
        return sb.append('}').append('\n').toString();
    }

    private static void field(StringBuilder sb, String name, String value) {
        sb.append('"').append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    // other controls and the line separators that some readers break lines at
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
