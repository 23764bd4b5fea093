package dev.ublkgateway.plugins.encryption;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Locale;

/**
 * Where the AES block work of aes-xts runs: the system OpenSSL (libcrypto, through FFM) or the JDK's
 * provider. OpenSSL runs at one speed in every JVM. The JDK's is faster when its AVX-512 code serves
 * the call and several times slower when the JIT leaves it a block-at-a-time path, which differs
 * from one JVM start to the next (BENCHMARKS.md); so {@code auto} takes OpenSSL when it is installed.
 */
enum AesEngine {
    AUTO, OPENSSL, JDK;

    /** Parses the YAML value; a one-line error names the choices. */
    static AesEngine parse(String value) {
        if (value == null) return AUTO;
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("engine '" + value + "' is unknown; use auto, openssl or jdk");
        }
    }

    /** The engine {@code auto} resolves to on this machine. */
    AesEngine resolve() {
        if (this != AUTO) return this;
        return LibCrypto.available() ? OPENSSL : JDK;
    }

    /** True when the engine's blocks work in place on any segment ({@link AesBlocks#runInPlace}), needing no scratch arrays. */
    boolean inPlace() {
        return resolve() == OPENSSL;
    }

    /** A blocks worker over fixed scratch arrays; see {@link AesBlocks}. */
    AesBlocks blocks(byte[] key, int keyOffset, boolean encrypt, byte[] in, byte[] out) {
        return switch (resolve()) {
            case OPENSSL -> LibCrypto.ecb(key, keyOffset, encrypt, in, out);
            case JDK -> jdk(key, keyOffset, encrypt, in, out);
            case AUTO -> throw new AssertionError();
        };
    }

    /**
     * The JDK's provider. Decryption is CBC decryption with a zero IV: the JDK runs it on its pipelined
     * AES-NI code but ECB decryption a block at a time (about 5x slower); the caller undoes the chaining.
     */
    private static AesBlocks jdk(byte[] key, int keyOffset, boolean encrypt, byte[] in, byte[] out) {
        Cipher c;
        try {
            SecretKeySpec k = new SecretKeySpec(key, keyOffset, 32, "AES");
            if (encrypt) {
                c = Cipher.getInstance("AES/ECB/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, k);
            } else {
                // every doFinal starts over from this IV, so each call chains from zero
                c = Cipher.getInstance("AES/CBC/NoPadding");
                c.init(Cipher.DECRYPT_MODE, k, new IvParameterSpec(new byte[16]));
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES is not available in this JDK: " + e.getMessage(), e);
        }
        return new AesBlocks() {
            @Override
            public void run(int n) {
                try {
                    c.doFinal(in, 0, n, out, 0);
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public boolean chained() {
                return !encrypt;
            }

            @Override
            public void close() {}
        };
    }
}
