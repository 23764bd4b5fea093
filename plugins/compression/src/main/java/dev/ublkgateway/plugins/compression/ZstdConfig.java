package dev.ublkgateway.plugins.compression;

import dev.ublkgateway.api.ConfigOption;

/** Options of the {@code zstd} codec. */
public record ZstdConfig(
        @ConfigOption(description = "compression level: -7 (fastest) to 22 (smallest); 1 and 3 are the usual choices",
                defaultValue = "3") Integer level) {

    public static final int DEFAULT_LEVEL = 3;

    public ZstdConfig {
        if (level == null) level = DEFAULT_LEVEL;
        if (level < -7 || level > 22 || level == 0) {
            throw new IllegalArgumentException("level " + level + " is out of range; use -7 to -1 or 1 to 22 (default 3)");
        }
    }
}
