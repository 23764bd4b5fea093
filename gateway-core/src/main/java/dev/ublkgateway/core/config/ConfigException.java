package dev.ublkgateway.core.config;

/**
 * A problem in a configuration file. The message is always one line:
 * {@code <file>:<line>:<column>: <problem>; <fix>}, e.g.
 * {@code vol.yaml:4:11: size "10Gb" is not a size; use an integer with B, KiB, MiB, GiB or TiB,
 * e.g. 10GiB}. Lines and columns count from 1. When no position applies (the file cannot be
 * read), the message is {@code <file>: <problem>; <fix>} and {@link #line()} is 0.
 */
public final class ConfigException extends RuntimeException {

    private final String source;
    private final int line;
    private final int column;
    private final String detail;

    /**
     * @param detail the problem and its fix, {@code "<problem>; <fix>"}; line breaks are replaced
     *     by spaces
     */
    public ConfigException(String source, int line, int column, String detail) {
        this(source, line, column, detail, null);
    }

    public ConfigException(String source, int line, int column, String detail, Throwable cause) {
        super(format(source, line, column, detail), cause);
        this.source = source;
        this.line = line;
        this.column = column;
        this.detail = oneLine(detail);
    }

    /** The file name as the user gave it. */
    public String source() {
        return source;
    }

    /** 1-based line, or 0 when the problem has no position. */
    public int line() {
        return line;
    }

    /** 1-based column, or 0 when the problem has no position. */
    public int column() {
        return column;
    }

    /** The message without the location prefix: {@code <problem>; <fix>}. */
    public String detail() {
        return detail;
    }

    private static String format(String source, int line, int column, String detail) {
        String where = line > 0 ? source + ":" + line + ":" + Math.max(column, 1) : source;
        return where + ": " + oneLine(detail);
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
