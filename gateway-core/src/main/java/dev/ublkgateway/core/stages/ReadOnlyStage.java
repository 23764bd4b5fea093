package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;

/** Refuses every request that would change data with EROFS; reads and flushes pass. Switchable at run time. */
public final class ReadOnlyStage implements BlockStage {
    private volatile boolean enabled;

    public ReadOnlyStage(boolean enabled) {
        this.enabled = enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public boolean enabled() {
        return enabled;
    }

    /** Refuses writes by their op alone: no state, no data. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.passThrough();
    }

    @Override
    public StageQueue openQueue(QueueContext queue) {
        return this::submit; // stateless per queue
    }

    private int submit(BlockRequest r, TargetQueue next) {
        int op = r.op();
        if (enabled && (op == BlockOp.WRITE || op == BlockOp.DISCARD || op == BlockOp.WRITE_ZEROES)) {
            return -Errno.EROFS;
        }
        return next.submit(r);
    }
}
