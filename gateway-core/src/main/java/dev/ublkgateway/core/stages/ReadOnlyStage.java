package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.chain.KeepsData;

/** Refuses every request that would change data with EROFS; reads and flushes pass. Switchable at run time. */
public final class ReadOnlyStage implements BlockStage, KeepsData {
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
