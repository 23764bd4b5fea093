package dev.ublkgateway.plugins.compression;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.DeviceDescriptor;
import org.pf4j.Extension;

/** The {@code lz4} chunk codec. */
@Extension
public final class Lz4CodecProvider implements ChunkCodecProvider<Lz4Config> {
    @Override
    public boolean compresses() {
        return true;
    }

    @Override
    public String name() {
        return "lz4";
    }

    @Override
    public String description() {
        return "LZ4 compression, fast or HC (level 1..17); chunks that do not shrink are stored raw; CRC32C-checked";
    }

    @Override
    public Class<Lz4Config> configType() {
        return Lz4Config.class;
    }

    @Override
    public ChunkCodec create(Lz4Config config, DeviceDescriptor device) {
        return new Lz4Codec(config.level(), CodecStats.of(device.name(), name()));
    }
}
