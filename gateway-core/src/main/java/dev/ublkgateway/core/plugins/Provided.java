package dev.ublkgateway.core.plugins;

/**
 * One component a plugin (or the gateway itself) provides.
 *
 * @param kind     "stage", "target", "codec" or "store"
 * @param name     the type name used in YAML
 * @param pluginId the owning plugin's id, or "built-in"
 * @param provider the extension instance
 */
public record Provided(String kind, String name, String pluginId, Object provider) {
    public static final String BUILT_IN = "built-in";
}
