package dev.ublkgateway.plugins.compression;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.DeviceDescriptor;
import org.pf4j.Extension;

import java.io.IOException;

/** The {@code zstd} chunk codec. */
@Extension
public final class ZstdCodecProvider implements ChunkCodecProvider<ZstdConfig> {
    @Override
    public boolean compresses() {
        return true;
    }

    @Override
    public String name() {
        return "zstd";
    }

    @Override
    public String description() {
        return "zstd compression (level -7..22, default 3); chunks that do not shrink are stored raw; CRC32C-checked";
    }

    @Override
    public Class<ZstdConfig> configType() {
        return ZstdConfig.class;
    }

    @Override
    public ChunkCodec create(ZstdConfig config, DeviceDescriptor device) throws IOException {
        try {
            return new ZstdCodec(config.level(), CodecStats.of(device.name(), name()));
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new IOException("zstd: the zstd-jni native library cannot be loaded on this platform ("
                    + e.getMessage() + "); use the lz4 codec instead");
        }
    }
}
