package dev.ublkgateway.plugins.compression;

import dev.ublkgateway.api.ConfigOption;

/** Options of the {@code lz4} codec. */
public record Lz4Config(
        @ConfigOption(description = "0 for the fast LZ4 compressor, 1 to 17 for LZ4 HC at that level (smaller, slower to write)",
                defaultValue = "0") Integer level) {

    public Lz4Config {
        if (level == null) level = 0;
        if (level < 0 || level > 17) {
            throw new IllegalArgumentException("level " + level + " is out of range; use 0 (fast) or 1 to 17 (LZ4 HC)");
        }
    }
}
