package dev.ublkgateway.core.uring;

import dev.ublkgateway.core.sys.NativeException;

/** An io_uring operation or completion that failed with an errno. */
public final class UringException extends NativeException {
    public UringException(String what, int errno) {
        super(what, errno);
    }

    /** Returns {@code res} when it is not negative, else throws naming {@code what} and the errno. */
    public static int check(int res, String what) throws UringException {
        if (res < 0) throw new UringException(what, -res);
        return res;
    }
}
