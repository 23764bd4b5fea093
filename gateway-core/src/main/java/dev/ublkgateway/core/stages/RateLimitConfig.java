package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.ConfigOption;
import dev.ublkgateway.api.Size;

/**
 * @param iops      requests per second for the whole device; 0 = no limit
 * @param bandwidth bytes per second for the whole device, e.g. 100MiB; absent = no limit
 * @param burstMs   how much unused budget may be spent at once, in milliseconds (default 100)
 */
public record RateLimitConfig(
        @ConfigOption(description = "requests per second for the whole device; 0 = no limit", defaultValue = "0") long iops,
        @ConfigOption(description = "bytes per second for the whole device, e.g. 100MiB", defaultValue = "no limit") String bandwidth,
        @ConfigOption(description = "unused budget that may be spent at once, in milliseconds", defaultValue = "100") Integer burstMs) {
    public RateLimitConfig {
        if (iops < 0) throw new IllegalArgumentException("iops " + iops + " is negative; use 0 for no limit or a positive rate");
        if (bandwidth != null) {
            try {
                Size.parse(bandwidth);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bandwidth " + e.getMessage());
            }
        }
        if (burstMs == null) burstMs = 100;
        if (burstMs < 0 || burstMs > 60_000) {
            throw new IllegalArgumentException("burst-ms " + burstMs + " is out of range; use 0..60000");
        }
        if (iops == 0 && bandwidth == null) {
            throw new IllegalArgumentException("iops and bandwidth are both unset; set at least one limit");
        }
    }

    public long bytesPerSecond() {
        return bandwidth == null ? 0 : Size.parse(bandwidth).bytes();
    }
}
