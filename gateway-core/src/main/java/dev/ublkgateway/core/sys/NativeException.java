package dev.ublkgateway.core.sys;

import java.io.IOException;

/** A failed system or library call, carrying the errno so callers can react to specific causes. */
public class NativeException extends IOException {
    private final int errno;

    public NativeException(String what, int errno) {
        super(what + ": " + Libc.describe(errno));
        this.errno = Math.abs(errno);
    }

    /** The positive errno value. */
    public int errno() {
        return errno;
    }
}
