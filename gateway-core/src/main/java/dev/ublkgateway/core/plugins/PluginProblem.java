package dev.ublkgateway.core.plugins;

/** A plugin that could not be used, and why: shown by `plugins list` and logged at start. */
public record PluginProblem(String archive, String message) {
    @Override
    public String toString() {
        return "plugin " + archive + ": " + message;
    }
}
