package dev.ublkgateway.core.cli;

import java.io.PrintStream;
import java.util.function.LongSupplier;

/**
 * Shows how much of a long operation is left (bytes to flush, to store, to discard): on a terminal one line redrawn
 * in place with a bar, the bytes left, the rate and the time left; otherwise (a log, a pipe) a plain
 * line every {@code plainEveryNanos}, so logs stay readable. {@link #finish} prints the outcome.
 */
final class Progress {
    private static final int BAR = 24;
    private final String label;
    private final PrintStream out;
    private final boolean terminal;
    private final LongSupplier nanos;
    private final long plainEveryNanos;
    private long total = -1, startLeft = -1, startNanos, lastPlain;
    private boolean drawn;

    Progress(String label, PrintStream out, boolean terminal, LongSupplier nanos, long plainEveryNanos) {
        this.label = label;
        this.out = out;
        this.terminal = terminal;
        this.nanos = nanos;
        this.plainEveryNanos = plainEveryNanos;
    }

    /** For the process's stdout: a terminal when it is one (the JVM's console check), plain lines every 5 s else. */
    static Progress onStdout(String label) {
        java.io.Console c = System.console();
        return new Progress(label, System.out, c != null && c.isTerminal(), System::nanoTime, 5_000_000_000L);
    }

    /** {@code left} bytes remain; the first report is the total the bar and the rate count from. */
    void left(long left) {
        left(-1, left);
    }

    /**
     * {@code left} bytes of {@code total} remain (a total below 0: not known, the first report's left is the
     * total). The rate counts from the first report.
     */
    void left(long total, long left) {
        long now = nanos.getAsLong();
        if (startLeft < 0 || left > startLeft) { // the rate counts from the first report, or anew when more is left
            startLeft = left;
            startNanos = now;
        }
        if (total > this.total || left > this.total) this.total = Math.max(total, left);
        String line = describe(left, now);
        if (terminal) {
            out.print("\r\033[K" + bar(left) + " " + line);
            out.flush();
            drawn = true;
        } else if (lastPlain == 0 || now - lastPlain >= plainEveryNanos) {
            out.println(line);
            lastPlain = now;
        }
    }

    /** Ends the progress line (on a terminal) and prints the outcome on its own line. */
    void finish(String outcome) {
        if (drawn) out.print("\r\033[K");
        drawn = false;
        out.println(outcome);
    }

    String describe(long left, long now) {
        if (total <= 0) return label + " (" + duration((now - startNanos) / 1_000_000_000L) + ")"; // size not known
        StringBuilder b = new StringBuilder(label).append(": ").append(bytes(left)).append(" left");
        double seconds = (now - startNanos) / 1e9;
        long done = startLeft - left;
        if (seconds >= 0.5 && done > 0) {
            double rate = done / seconds;
            b.append(", ").append(bytes((long) rate)).append("/s, ETA ").append(duration((long) Math.ceil(left / rate)));
        }
        return b.toString();
    }

    private String bar(long left) {
        int filled = total <= 0 ? BAR : (int) ((total - left) * BAR / total);
        return "[" + "#".repeat(filled) + ".".repeat(BAR - filled) + "]";
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }

    static String duration(long seconds) {
        return seconds < 60 ? seconds + " s" : seconds < 3600 ? String.format("%d:%02d", seconds / 60, seconds % 60)
                : String.format("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }
}
