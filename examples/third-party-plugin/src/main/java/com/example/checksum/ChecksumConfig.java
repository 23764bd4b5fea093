package com.example.checksum;

import dev.ublkgateway.api.ConfigOption;

/**
 * Options of the checksum stage.
 *
 * @param sidecar file that keeps one checksum per block (created if missing; relative to the YAML file)
 */
public record ChecksumConfig(
        @ConfigOption(description = "file that keeps one checksum per block (created if missing)")
        String sidecar) {
    public ChecksumConfig {
        if (sidecar == null || sidecar.isBlank()) {
            throw new IllegalArgumentException("sidecar is missing; set it to a file for the checksums, e.g. data0.crc");
        }
    }
}
