package dev.ublkgateway.plugins.encryption;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Key material from one of: a hex key (from ${env:NAME} or file:PATH), a raw key file, or a passphrase
 * through PBKDF2-HMAC-SHA256. Messages never contain key bytes or the passphrase.
 */
final class Keys {
    private Keys() {}

    /** The description of option kdf-iterations. */
    static final String KDF_ITERATIONS = "PBKDF2 iterations for passphrase";
    /** PBKDF2 iterations for a passphrase when kdf-iterations is not given. */
    static final int DEFAULT_KDF_ITERATIONS = 600_000;
    private static final int MIN_KDF_ITERATIONS = 10_000;

    /**
     * Checks the key options of a config record: exactly one source set, and a hex key of
     * {@code bytes} bytes. For the record's constructor, so problems are reported at load time.
     */
    static void checkSource(String key, String keyFile, String passphrase, int bytes) {
        int n = (key != null ? 1 : 0) + (keyFile != null ? 1 : 0) + (passphrase != null ? 1 : 0);
        if (n != 1) {
            throw new IllegalArgumentException((n == 0 ? "key is missing" : "key, key-file and passphrase are exclusive")
                    + "; set exactly one of key: ${env:NAME} (hex), key-file: PATH (raw bytes) or passphrase: ${env:NAME}");
        }
        if (key != null) hex("key", key, bytes);
    }

    /** The kdf-iterations option with its default applied; for config record constructors. */
    static int kdfIterations(Integer given) {
        int n = given == null ? DEFAULT_KDF_ITERATIONS : given;
        if (n < MIN_KDF_ITERATIONS) {
            throw new IllegalArgumentException("kdf-iterations " + n + " is too low; use at least " + MIN_KDF_ITERATIONS);
        }
        return n;
    }

    static byte[] hex(String option, String hex, int bytes) {
        String h = hex.strip();
        if (h.length() != 2 * bytes || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException(option + " is not " + bytes + " bytes of hex (" + 2 * bytes
                    + " hex digits, e.g. from `openssl rand -hex " + bytes + "`); check the variable or file it names");
        }
        return HexFormat.of().parseHex(h);
    }

    static byte[] file(String path, int bytes) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(Path.of(path));
        } catch (IOException e) {
            throw new IOException("key-file " + path + " cannot be read (" + e.getClass().getSimpleName() + "); check the path and permissions");
        }
        if (all.length < bytes) {
            Arrays.fill(all, (byte) 0);
            throw new IOException("key-file " + path + " holds " + all.length + " bytes; it needs " + bytes
                    + " (e.g. head -c " + bytes + " /dev/urandom > FILE)");
        }
        byte[] k = Arrays.copyOf(all, bytes);
        Arrays.fill(all, (byte) 0);
        return k;
    }

    static byte[] pbkdf2(String passphrase, byte[] salt, int iterations, int bytes) throws IOException {
        PBEKeySpec spec = new PBEKeySpec(passphrase.toCharArray(), salt, iterations, bytes * 8);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IOException("PBKDF2 is not available in this JDK: " + e.getMessage());
        } finally {
            spec.clearPassword();
        }
    }

    /** The key from whichever source is set. */
    static byte[] resolve(String key, String keyFile, String passphrase, byte[] salt, int iterations, int bytes) throws IOException {
        if (key != null) return hex("key", key, bytes);
        if (keyFile != null) return file(keyFile, bytes);
        return pbkdf2(passphrase, salt, iterations, bytes);
    }
}
