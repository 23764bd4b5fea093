package dev.ublkgateway.core.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The problems in a configuration file. Each problem is one line:
 * {@code <file>:<line>:<column>: <problem>; <fix>}, e.g.
 * {@code vol.yaml:4:11: size "10Gb" is not a size; use an integer with B, KiB, MiB, GiB or TiB,
 * e.g. 10GiB}. Lines and columns count from 1. When no position applies (the file cannot be
 * read), the problem is {@code <file>: <problem>; <fix>} and {@link #line()} is 0.
 *
 * <p>{@link #problems()} lists every problem found in the file, in file order;
 * {@link #getMessage()} is that list joined by {@code '\n'}, so with a single problem it is that
 * one line. {@link #line()}, {@link #column()} and {@link #detail()} describe the first problem.
 * Messages never contain the value of a secret option.
 */
public final class ConfigException extends RuntimeException {

    private static final Comparator<ConfigException> FILE_ORDER =
            Comparator.comparingInt(ConfigException::line).thenComparingInt(ConfigException::column);

    private final String source;
    private final int line;
    private final int column;
    private final String detail;
    private final List<String> problems;

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
        this.problems = List.of(super.getMessage());
    }

    private ConfigException(ConfigException first, List<String> problems) {
        super(String.join("\n", problems), first.getCause());
        this.source = first.source;
        this.line = first.line;
        this.column = first.column;
        this.detail = first.detail;
        this.problems = List.copyOf(problems);
    }

    /**
     * One exception for several problems: sorted by position (stable), exact repeats removed (a
     * value merged into several devices is reported once). A single problem is returned as is.
     *
     * @throws IllegalArgumentException if {@code problems} is empty
     */
    public static ConfigException of(List<ConfigException> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("no problems");
        }
        if (problems.size() == 1) {
            return problems.getFirst();
        }
        List<ConfigException> sorted = new ArrayList<>(problems);
        sorted.sort(FILE_ORDER);
        Set<String> lines = new LinkedHashSet<>();
        for (ConfigException e : sorted) {
            lines.addAll(e.problems());
        }
        return lines.size() == 1 ? sorted.getFirst() : new ConfigException(sorted.getFirst(), List.copyOf(lines));
    }

    /** Every problem, one line each, in file order; at least one. */
    public List<String> problems() {
        return problems;
    }

    /** The file name as the user gave it. */
    public String source() {
        return source;
    }

    /** 1-based line of the first problem, or 0 when it has no position. */
    public int line() {
        return line;
    }

    /** 1-based column of the first problem, or 0 when it has no position. */
    public int column() {
        return column;
    }

    /** The first problem without the location prefix: {@code <problem>; <fix>}. */
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
