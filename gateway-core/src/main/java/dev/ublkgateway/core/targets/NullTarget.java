package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;

/** Completes every request at once without touching data: measures the frontend's own cost. */
public final class NullTarget implements Target {
    private static final TargetQueue QUEUE = NullTarget::handle;

    private static int handle(BlockRequest r) {
        return r.op() == BlockOp.READ || r.op() == BlockOp.WRITE ? r.length() : 0;
    }

    @Override
    public TargetQueue openQueue(QueueContext queue) {
        return QUEUE;
    }

    /** Nothing stored, nothing per queue. */
    @Override
    public Capabilities capabilities() {
        return Target.super.capabilities().withMultiConnSafe(true);
    }

    @Override
    public boolean needsData() {
        return false;
    }

    /**
     * Nothing is stored: all of it is a hole. Not ZERO: its reads leave the buffer as it was, so a client
     * that skipped reading "zero" ranges could see something other than what a read returns.
     */
    @Override
    public int extents(long offset, long length, ExtentSink sink) {
        sink.extent(length, ExtentSink.HOLE);
        return 0;
    }

    /** Nothing stored: any size serves, and a shrink loses nothing. */
    @Override
    public void resize(long newSize, boolean allowShrink) {}

    @Override
    public void close() {}
}
