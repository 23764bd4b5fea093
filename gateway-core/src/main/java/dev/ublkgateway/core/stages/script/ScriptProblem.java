package dev.ublkgateway.core.stages.script;

/**
 * A problem in a script file: 1-based line and column (0 when no position applies) and a one-line
 * message that ends with what to do about it.
 */
public record ScriptProblem(int line, int column, String message) {
    /** {@code file:line:column: message}, or {@code file: message} without a position. */
    public String format(String file) {
        return (line > 0 ? file + ":" + line + ":" + Math.max(1, column) : file) + ": " + message;
    }
}
