package dev.ublkgateway.plugins.encryption;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.StageProvider;
import dev.ublkgateway.api.VolumeInfo;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.logging.Logger;

/** The encryption plugin's extensions. */
public final class EncryptionProviders {
    private static final Logger LOG = Logger.getLogger(EncryptionProviders.class.getName());

    private EncryptionProviders() {}

    @Extension
    public static final class AesXts implements StageProvider<XtsConfig> {
        public String name() { return "aes-xts"; }
        public String description() { return "AES-256-XTS per 512-byte sector, byte-compatible with dm-crypt aes-xts-plain64"; }
        public Class<XtsConfig> configType() { return XtsConfig.class; }

        public BlockStage create(XtsConfig c, DeviceDescriptor d) throws IOException {
            AesEngine engine = AesEngine.parse(c.engine());
            if (engine == AesEngine.OPENSSL && !LibCrypto.available()) throw new IOException(LibCrypto.missing());
            byte[] salt = c.salt() == null ? new byte[0] : c.salt().getBytes(StandardCharsets.UTF_8);
            AesEngine used = engine.resolve();
            LOG.info(() -> d.name() + ": aes-xts runs on " + (used == AesEngine.OPENSSL ? LibCrypto.LIBRARY : "the JDK's AES"));
            return new XtsStage(Keys.resolve(c.key(), c.keyFile(), c.passphrase(), salt, c.kdfIterations(), 64), used);
        }
    }

    @Extension
    public static final class AesGcm implements ChunkCodecProvider<GcmConfig> {
        @Override
        public boolean encrypts() {
            return true;
        }

        public String name() { return "aes-gcm"; }
        public String description() { return "AES-256-GCM per chunk, random nonce, bound to volume and chunk index"; }
        public Class<GcmConfig> configType() { return GcmConfig.class; }

        public ChunkCodec create(GcmConfig c, DeviceDescriptor d) throws IOException {
            throw new IOException("aes-gcm needs the volume's metadata; use it in a chunked target's codecs");
        }

        private GcmConfig lastConfig;
        private byte[] lastSalt, lastKey;

        public ChunkCodec create(GcmConfig c, DeviceDescriptor d, VolumeInfo v) throws IOException {
            AesEngine engine = AesEngine.parse(c.engine());
            if (engine == AesEngine.OPENSSL && !LibCrypto.available()) throw new IOException(LibCrypto.missing());
            return new GcmCodec(key(c, v.kdfSalt()), v.volumeId(), engine);
        }

        /** The derived key, remembered: a volume creates one codec per concurrent worker, PBKDF2 runs once. */
        private synchronized byte[] key(GcmConfig c, byte[] salt) throws IOException {
            if (c != lastConfig || !java.util.Arrays.equals(salt, lastSalt)) {
                lastKey = Keys.resolve(c.key(), c.keyFile(), c.passphrase(), salt, c.kdfIterations(), 32);
                lastConfig = c;
                lastSalt = salt;
            }
            return lastKey.clone();
        }
    }
}
