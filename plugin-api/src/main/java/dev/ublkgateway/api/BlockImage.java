package dev.ublkgateway.api;

import java.io.IOException;

/**
 * A raw image outside the local file system that a volume is imported from or exported to (an NBD
 * export). Calls may come from several threads at once; an implementation keeps them in flight together.
 * Failures are {@link IOException}s with a one-line message. (Since API 1.8.)
 */
public interface BlockImage extends AutoCloseable {
    /** How the image is named in messages, e.g. its URI. */
    String name();

    /** Its length in bytes. */
    long size();

    /** Whether {@link #write}, {@link #writeZeroes} and {@link #flush} are allowed. */
    boolean writable();

    /** Reads {@code length} bytes at {@code offset} into {@code buf[0, length)}. */
    void read(long offset, byte[] buf, int length) throws IOException;

    /** Writes {@code buf[0, length)} at {@code offset}. */
    void write(long offset, byte[] buf, int length) throws IOException;

    /** Makes {@code length} bytes at {@code offset} read as zeros (without sending them where the image allows). */
    void writeZeroes(long offset, int length) throws IOException;

    /** Makes every write so far durable. */
    void flush() throws IOException;

    @Override
    void close() throws IOException;
}
