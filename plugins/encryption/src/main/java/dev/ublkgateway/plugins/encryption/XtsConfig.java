package dev.ublkgateway.plugins.encryption;

import dev.ublkgateway.api.ConfigOption;
import dev.ublkgateway.api.ConfigRecords;

/** Options of stage {@code aes-xts}. */
public record XtsConfig(
        @ConfigOption(secret = true, description = "512-bit key as 128 hex digits (first half encrypts data, second the tweak)")
        String key,
        @ConfigOption(path = true, description = "file whose first 64 bytes are the key, as cryptsetup --key-file reads it")
        String keyFile,
        @ConfigOption(secret = true, description = "passphrase, stretched with PBKDF2-HMAC-SHA256 and salt")
        String passphrase,
        @ConfigOption(description = "salt for passphrase (any text, fixed for the volume)")
        String salt,
        @ConfigOption(description = Keys.KDF_ITERATIONS, defaultValue = "" + Keys.DEFAULT_KDF_ITERATIONS)
        Integer kdfIterations,
        @ConfigOption(description = "where the AES work runs: openssl (system libcrypto), jdk, or auto (openssl if installed)",
                defaultValue = "auto")
        String engine) {

    public XtsConfig {
        Keys.checkSource(key, keyFile, passphrase, 64);
        if (passphrase != null && (salt == null || salt.isEmpty())) {
            throw new IllegalArgumentException("salt is missing; a passphrase needs salt: TEXT (keep it for the volume's life)");
        }
        engine = AesEngine.parse(engine).name().toLowerCase(java.util.Locale.ROOT);
        kdfIterations = Keys.kdfIterations(kdfIterations);
    }

    @Override
    public String toString() {
        return ConfigRecords.redactedToString(this);
    }
}
