package dev.ublkgateway.plugins.encryption;

import dev.ublkgateway.api.ConfigOption;
import dev.ublkgateway.api.ConfigRecords;

/** Options of chunk codec {@code aes-gcm}. */
public record GcmConfig(
        @ConfigOption(secret = true, description = "256-bit key as 64 hex digits")
        String key,
        @ConfigOption(path = true, description = "file whose first 32 bytes are the key")
        String keyFile,
        @ConfigOption(secret = true, description = "passphrase, stretched with PBKDF2-HMAC-SHA256 and the volume's salt")
        String passphrase,
        @ConfigOption(description = Keys.KDF_ITERATIONS, defaultValue = "" + Keys.DEFAULT_KDF_ITERATIONS)
        Integer kdfIterations,
        @ConfigOption(description = "where the AES work runs: openssl (system libcrypto), jdk, or auto (openssl if installed)",
                defaultValue = "auto")
        String engine) {

    public GcmConfig {
        Keys.checkSource(key, keyFile, passphrase, 32);
        kdfIterations = Keys.kdfIterations(kdfIterations);
        engine = AesEngine.parse(engine).name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String toString() {
        return ConfigRecords.redactedToString(this);
    }
}
