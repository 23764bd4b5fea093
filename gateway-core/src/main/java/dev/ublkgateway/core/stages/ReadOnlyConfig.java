package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.ConfigOption;

/** @param enabled refuse writes from the start (default true); can be switched at run time */
public record ReadOnlyConfig(
        @ConfigOption(description = "refuse writes from the start; a policy script can switch it at run time",
                defaultValue = "true") Boolean enabled) {
    public ReadOnlyConfig {
        if (enabled == null) enabled = true;
    }
}
