package dev.ublkgateway.api;

/**
 * Receives a target's description of a range, one extent after the other from the range's start
 * (see {@link Target#extents}). The caller owns it and reuses it: implementations need not allocate.
 * Since API 1.3.
 */
@FunctionalInterface
public interface ExtentSink {
    /** The extent is not allocated: writing it may need new space. */
    int HOLE = 1;
    /** The extent reads as zeros. */
    int ZERO = 2;

    /**
     * The next {@code length} bytes (more than 0) have {@code flags} ({@link #HOLE}, {@link #ZERO}, both,
     * or 0 for allocated data). Returns false when the caller has heard enough: report nothing more.
     */
    boolean extent(long length, int flags);
}
