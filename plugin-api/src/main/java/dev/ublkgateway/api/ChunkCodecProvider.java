package dev.ublkgateway.api;

import org.pf4j.ExtensionPoint;

import java.io.IOException;

/**
 * Extension point for chunk codecs; configuration works as for {@link StageProvider}.
 *
 * @param <C> the codec's configuration record
 */
public interface ChunkCodecProvider<C extends Record> extends ExtensionPoint {
    /** The codec type as written in YAML. */
    String name();

    /** One line for {@code plugins list}/{@code plugins info}. */
    String description();

    /** The record the codec's YAML options bind to. */
    Class<C> configType();

    /**
     * True for a codec that shrinks data. The chunked target refuses one listed after an
     * {@linkplain #encrypts encrypting} codec: ciphertext does not compress. (Since API 1.1.)
     */
    default boolean compresses() {
        return false;
    }

    /** True for a codec whose output is ciphertext (looks random). (Since API 1.1.) */
    default boolean encrypts() {
        return false;
    }

    /** Creates a codec for one volume. */
    ChunkCodec create(C config, DeviceDescriptor device) throws IOException;

    /**
     * Creates a codec for one volume whose metadata is known. The chunked target calls this one; the
     * default ignores {@code volume}. Codecs that bind data to the volume or derive keys override it.
     */
    default ChunkCodec create(C config, DeviceDescriptor device, VolumeInfo volume) throws IOException {
        return create(config, device);
    }
}
