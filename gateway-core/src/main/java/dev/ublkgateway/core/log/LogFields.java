package dev.ublkgateway.core.log;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What both log formats take from a record: the device it is about, and its error in one line or in full. */
final class LogFields {
    // Device lines start "NAME: ..." or say "device NAME"; names follow config.Names.
    private static final Pattern LEADING = Pattern.compile("^([a-z0-9][a-z0-9._-]{0,31}): ");
    private static final Pattern NAMED = Pattern.compile("\\bdevice ([a-z0-9][a-z0-9._-]{0,31})\\b");

    private LogFields() {}

    /** The device a message is about, or null when it names none. */
    static String device(String message) {
        Matcher m = NAMED.matcher(message);
        if (m.find()) return m.group(1);
        m = LEADING.matcher(message);
        return m.find() ? m.group(1) : null;
    }

    /** The record's error: its stack trace when asked for, else "Type: message" in one line; null if none. */
    static String error(LogRecord r, boolean trace) {
        Throwable t = r.getThrown();
        if (t == null) return null;
        if (trace) {
            StringWriter w = new StringWriter();
            t.printStackTrace(new PrintWriter(w));
            return w.toString().stripTrailing();
        }
        String m = t.getMessage();
        return LogText.oneLine(m == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + m);
    }
}
