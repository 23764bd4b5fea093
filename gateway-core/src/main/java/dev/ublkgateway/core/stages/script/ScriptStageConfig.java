package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.ConfigOption;

import java.nio.file.Path;
import java.util.List;

/**
 * Options of the {@code script} stage (also written as {@code script:} on a device or at the top level
 * of the file). Binding checks the script itself: a script that does not parse, fails at the top level
 * or exports no hook is reported with its own file, line and column.
 *
 * @param path      the JavaScript file (an ES module exporting hooks), relative to the YAML file
 * @param fail      {@code closed} (default): a failing call completes its request with EIO;
 *                  {@code open}: the request goes on as if allowed; either way the failure is logged
 * @param timeoutMs time budget of one call into the script in milliseconds (default 50)
 * @param tickMs    period of {@code onTick} in milliseconds (default 1000)
 * @param reload    swap in a changed script file while the device runs (default true)
 */
public record ScriptStageConfig(
        @ConfigOption(required = true, description = "the JavaScript file, relative to the YAML file") Path path,
        @ConfigOption(description = "closed (failing call fails the request with EIO) or open (request allowed)",
                defaultValue = "closed") String fail,
        @ConfigOption(description = "time budget per call, in milliseconds", defaultValue = "50") Integer timeoutMs,
        @ConfigOption(description = "period of onTick, in milliseconds", defaultValue = "1000") Integer tickMs,
        @ConfigOption(description = "reload the script when the file changes", defaultValue = "true") Boolean reload) {

    public ScriptStageConfig {
        if (fail == null) fail = "closed";
        if (!fail.equals("closed") && !fail.equals("open")) {
            throw new IllegalArgumentException("fail \"" + fail + "\" is not closed or open; use fail: closed (EIO) or fail: open");
        }
        if (timeoutMs == null) timeoutMs = ScriptConfig.DEFAULT_TIMEOUT_MS;
        if (timeoutMs < 1 || timeoutMs > ScriptConfig.MAX_TIMEOUT_MS) {
            throw new IllegalArgumentException("timeout-ms " + timeoutMs + " is out of range; use 1.." + ScriptConfig.MAX_TIMEOUT_MS);
        }
        if (tickMs == null) tickMs = ScriptConfig.DEFAULT_TICK_MS;
        if (tickMs < ScriptConfig.MIN_TICK_MS || tickMs > ScriptConfig.MAX_TICK_MS) {
            throw new IllegalArgumentException("tick-ms " + tickMs + " is out of range; use " + ScriptConfig.MIN_TICK_MS
                    + ".." + ScriptConfig.MAX_TICK_MS);
        }
        if (reload == null) reload = true;
        if (path != null) {
            List<ScriptProblem> problems = ScriptChecker.check(path, shown(path));
            if (!problems.isEmpty()) {
                String first = problems.getFirst().format(shown(path));
                throw new IllegalArgumentException("path: " + first
                        + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems in the script)" : ""));
            }
        }
    }

    /** The path as shown in messages: relative to the working directory when below it. */
    static String shown(Path path) {
        try {
            Path cwd = Path.of("").toAbsolutePath();
            Path abs = path.toAbsolutePath().normalize();
            return abs.startsWith(cwd) ? cwd.relativize(abs).toString() : abs.toString();
        } catch (RuntimeException e) {
            return path.toString();
        }
    }

    public ScriptConfig toScriptConfig() {
        return new ScriptConfig(path.toAbsolutePath().normalize(), shown(path), fail.equals("open"), timeoutMs, tickMs, reload);
    }
}
