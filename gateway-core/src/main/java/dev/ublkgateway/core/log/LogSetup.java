package dev.ublkgateway.core.log;

import java.io.OutputStream;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/** Points every log line of the process at stderr, in the chosen format, from the chosen level up. */
public final class LogSetup {
    // java.util.logging keeps only weak references to loggers: the configured root is held here.
    private static final Logger ROOT = Logger.getLogger("");
    private static final Logger OURS = Logger.getLogger("dev.ublkgateway");
    // PF4J logs every load and prints stack traces for broken plugins; PluginHost reports those as one
    // line each instead.
    private static final Logger PF4J = Logger.getLogger("org.pf4j");

    private LogSetup() {}

    public static void apply(LogLevel level, LogFormat format) {
        apply(level, format, System.err);
    }

    /** Replaces the root logger's handlers with one writing to {@code out}. */
    public static void apply(LogLevel level, LogFormat format, OutputStream out) {
        for (Handler h : ROOT.getHandlers()) ROOT.removeHandler(h);
        Handler h = new FlushingHandler(out, format.formatter(level == LogLevel.DEBUG));
        h.setLevel(level.jul());
        // debug is for the gateway and its plugins; the JDK's own debug lines (every exit, every
        // process start) would bury them
        ROOT.setLevel(level == LogLevel.DEBUG ? LogLevel.INFO.jul() : level.jul());
        OURS.setLevel(level.jul());
        PF4J.setLevel(java.util.logging.Level.OFF);
        ROOT.addHandler(h);
    }

    /** Writes each line at once: a gateway that is killed loses none, and log readers see lines as they come. */
    private static final class FlushingHandler extends StreamHandler {
        FlushingHandler(OutputStream out, java.util.logging.Formatter f) {
            super(out, f);
        }

        @Override
        public synchronized void publish(LogRecord r) {
            super.publish(r);
            flush();
        }

        @Override
        public synchronized void close() {
            flush(); // never closes stderr
        }
    }
}
