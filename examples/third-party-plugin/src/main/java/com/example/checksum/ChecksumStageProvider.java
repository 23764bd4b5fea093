package com.example.checksum;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.StageProvider;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.file.Path;

/** Registers the "checksum" stage with the gateway. */
@Extension
public final class ChecksumStageProvider implements StageProvider<ChecksumConfig> {
    @Override
    public String name() {
        return "checksum";
    }

    @Override
    public String description() {
        return "CRC32C per block kept in a sidecar file; a read whose data does not match fails with EIO";
    }

    @Override
    public Class<ChecksumConfig> configType() {
        return ChecksumConfig.class;
    }

    @Override
    public BlockStage create(ChecksumConfig config, DeviceDescriptor device) throws IOException {
        return new ChecksumStage(Path.of(config.sidecar()), device);
    }
}
