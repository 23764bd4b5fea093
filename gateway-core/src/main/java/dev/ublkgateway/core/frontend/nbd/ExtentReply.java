package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.ExtentSink;

import java.lang.foreign.MemorySegment;

import static dev.ublkgateway.core.frontend.nbd.Handshake.BE_INT;

/**
 * Turns a target's extents into the descriptors of a BLOCK_STATUS reply (32-bit length, 32-bit
 * flags each): neighbours with equal flags merged, boundaries on whole blocks (a block that is part
 * hole, part data counts as data: only the flags all of its parts share), at most {@code max}.
 * One per connection, reused for every request.
 */
final class ExtentReply implements ExtentSink {
    private static final int ALL = ExtentSink.HOLE | ExtentSink.ZERO;
    private MemorySegment out;
    private int max, count, lastFlags, partFlags;
    private long align, remaining, partLength;
    private boolean full;

    /** Starts a reply for {@code length} bytes into {@code out}, of at most {@code max} descriptors. */
    void start(MemorySegment out, int max, int blockSize, long length) {
        this.out = out;
        this.max = max;
        this.align = blockSize;
        this.remaining = length;
        count = 0;
        full = false;
        partLength = 0;
        partFlags = ALL;
    }

    @Override
    public boolean extent(long length, int flags) {
        if (full || remaining <= 0 || length <= 0) return !full && remaining > 0;
        long n = Math.min(length, remaining); // a target that says more than was asked is cut short
        remaining -= n;
        flags &= ALL;
        if (partLength > 0) { // finish the block begun by an earlier extent
            long take = Math.min(n, align - partLength);
            partFlags &= flags;
            partLength += take;
            n -= take;
            if (partLength == align) {
                add(align, partFlags);
                partLength = 0;
                partFlags = ALL;
            }
        }
        long whole = n - n % align;
        if (whole > 0) add(whole, flags);
        if (n > whole) {
            partLength = n - whole;
            partFlags = flags;
        }
        return !full && remaining > 0;
    }

    private void add(long length, int flags) {
        if (full) return;
        if (count > 0 && flags == lastFlags) {
            long at = 8L * (count - 1);
            out.set(BE_INT, at, (int) (Integer.toUnsignedLong(out.get(BE_INT, at)) + length));
            return;
        }
        if (count == max) {
            full = true;
            return;
        }
        out.set(BE_INT, 8L * count, (int) length);
        out.set(BE_INT, 8L * count + 4, flags);
        lastFlags = flags;
        count++;
    }

    /**
     * Ends the reply; returns its descriptors' size in bytes. A block left unfinished is dropped (the
     * reply may cover less than was asked), unless nothing else was said; a target that said nothing
     * gets its range reported as data.
     */
    int finish(long length) {
        if (count == 0 && partLength > 0) add(partLength, partFlags);
        if (count == 0) add(length, 0);
        return 8 * count;
    }
}
