package dev.ublkgateway.core.stages.script;

import java.util.List;

/** A script that cannot be used: its problems, each with a position in the script file. */
public final class ScriptException extends Exception {
    private final String file;
    private final List<ScriptProblem> problems;

    public ScriptException(String file, List<ScriptProblem> problems) {
        super(String.join("\n", problems.stream().map(p -> p.format(file)).toList()));
        this.file = file;
        this.problems = List.copyOf(problems);
    }

    public String file() {
        return file;
    }

    public List<ScriptProblem> problems() {
        return problems;
    }
}
