package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.api.Errno;

import java.io.IOException;

/** A ublk operation the kernel refused, or a missing prerequisite; the message is one line for users. */
public final class UblkException extends IOException {
    private final int errno;

    public UblkException(String message, int errno) {
        super(message);
        this.errno = Math.abs(errno);
    }

    public UblkException(String message) {
        this(message, 0);
    }

    /** "the kernel rejected ADD_DEV: EINVAL (Invalid argument)". */
    static UblkException rejected(String command, int errno) {
        return new UblkException("the kernel rejected " + command + ": " + Libc.describe(errno), errno);
    }

    public int errno() {
        return errno;
    }
}
