package dev.ublkgateway.core.stages;

/** @param enabled refuse writes from the start (default true); can be switched at run time */
public record ReadOnlyConfig(Boolean enabled) {
    public ReadOnlyConfig {
        if (enabled == null) enabled = true;
    }
}
