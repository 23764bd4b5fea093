package dev.ublkgateway.plugins.encryption;

import java.lang.foreign.MemorySegment;

/**
 * AES-256 over whole 16-byte blocks between two scratch arrays fixed at creation:
 * {@code out[0, n) = AES(in[0, n))}, each block on its own (ECB). Not thread-safe.
 */
interface AesBlocks extends AutoCloseable {
    /** ECB over {@code buf[at, at + n)} in place (n a multiple of 16); only on an engine that {@link AesEngine#inPlace()}. */
    default void runInPlace(MemorySegment buf, long at, int n) {
        throw new UnsupportedOperationException();
    }

    /** Processes the first {@code n} bytes (a multiple of 16) of the input array into the output array. */
    void run(int n);

    /** True when decryption output is chained as in CBC ({@code D(c[i]) ^ c[i-1]}, zero before the first). */
    boolean chained();

    /** Frees native state (the expanded key); idempotent. */
    @Override
    void close();
}
