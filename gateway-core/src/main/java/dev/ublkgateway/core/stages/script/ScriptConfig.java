package dev.ublkgateway.core.stages.script;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A device's JavaScript policy hook, from {@code script:} in the YAML (on the device, or at the top
 * level for every device that names none).
 *
 * @param path      the script file, absolute
 * @param shownPath the path as written in the YAML, for messages
 * @param failOpen  what a failing call (exception, time budget exceeded) does to its request:
 *                  {@code false} (fail closed) completes it with EIO, {@code true} (fail open) passes it on
 * @param timeoutMs time budget of one call into the script, in milliseconds
 * @param tickMs    period of {@code onTick}, in milliseconds
 * @param reload    watch the file and swap in a new version when it changes
 */
public record ScriptConfig(Path path, String shownPath, boolean failOpen, int timeoutMs, int tickMs, boolean reload) {
    public static final int DEFAULT_TIMEOUT_MS = 50;
    public static final int DEFAULT_TICK_MS = 1000;
    public static final int MAX_TIMEOUT_MS = 10_000;
    public static final int MIN_TICK_MS = 10;
    public static final int MAX_TICK_MS = 3_600_000;

    public ScriptConfig {
        Objects.requireNonNull(path, "path");
        if (shownPath == null) shownPath = path.toString();
        if (timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
            throw new IllegalArgumentException("timeout-ms " + timeoutMs + " is out of range; use 1.." + MAX_TIMEOUT_MS);
        }
        if (tickMs < MIN_TICK_MS || tickMs > MAX_TICK_MS) {
            throw new IllegalArgumentException("tick-ms " + tickMs + " is out of range; use " + MIN_TICK_MS + ".." + MAX_TICK_MS);
        }
    }

    /** A script with the default options: fail closed, 50 ms per call, a tick per second, reload on change. */
    public static ScriptConfig of(Path path) {
        return new ScriptConfig(path, path.toString(), false, DEFAULT_TIMEOUT_MS, DEFAULT_TICK_MS, true);
    }
}
