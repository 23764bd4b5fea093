package dev.ublkgateway.plugins.encryption;

import dev.ublkgateway.api.ConfigOption;

/** Options of chunk codec {@code aes-gcm}. */
public record GcmConfig(
        @ConfigOption(secret = true, description = "256-bit key as 64 hex digits")
        String key,
        @ConfigOption(path = true, description = "file whose first 32 bytes are the key")
        String keyFile,
        @ConfigOption(secret = true, description = "passphrase, stretched with PBKDF2-HMAC-SHA256 and the volume's salt")
        String passphrase,
        @ConfigOption(description = "PBKDF2 iterations for passphrase", defaultValue = "600000")
        Integer kdfIterations) {

    public GcmConfig {
        Keys.checkOneSource(key, keyFile, passphrase);
        if (key != null) Keys.hex("key", key, 32);
        if (kdfIterations == null) kdfIterations = 600_000;
        if (kdfIterations < 10_000) throw new IllegalArgumentException("kdf-iterations " + kdfIterations + " is too low; use at least 10000");
    }

    @Override
    public String toString() {
        return "GcmConfig[key=" + (key != null ? "***" : null) + ", keyFile=" + keyFile + ", passphrase="
                + (passphrase != null ? "***" : null) + ", kdfIterations=" + kdfIterations + "]";
    }
}
