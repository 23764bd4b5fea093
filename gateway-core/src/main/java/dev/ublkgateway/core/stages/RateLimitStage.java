package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.Delays;

/**
 * Caps a device's IOPS and bandwidth with token buckets. Each queue gets its share of the limits; a
 * request over budget is held and passed on when its turn comes, while the queue keeps taking (and
 * scheduling) further requests. Bursts up to {@code burstMillis} worth of tokens pass at once. Limits
 * can be changed while the device runs.
 */
public final class RateLimitStage implements BlockStage {
    private final int queues;
    private final long burstNanos;
    private volatile long iops;          // 0 = unlimited
    private volatile long bytesPerSecond; // 0 = unlimited

    public RateLimitStage(long iops, long bytesPerSecond, long burstMillis, int queues) {
        this.iops = iops;
        this.bytesPerSecond = bytesPerSecond;
        this.burstNanos = burstMillis * 1_000_000L;
        this.queues = queues;
    }

    public void setLimits(long iops, long bytesPerSecond) {
        this.iops = iops;
        this.bytesPerSecond = bytesPerSecond;
    }

    public long iops() {
        return iops;
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Holds requests back without looking at their bytes; it keeps no data, so connections may share it. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.passThrough();
    }

    @Override
    public StageQueue openQueue(QueueContext queue) {
        return new Bucket();
    }

    /** Per-queue buckets measured in nanoseconds of budget: the debt model needs no timer. */
    private final class Bucket implements StageQueue {
        // waits shorter than this are not worth a timer round trip; the debt they leave is kept
        private static final long MIN_HOLD_NANOS = 20_000;

        private long opsReadyAt = System.nanoTime();   // when the bucket is next non-negative
        private long bytesReadyAt = opsReadyAt;

        @Override
        public int submit(BlockRequest r, TargetQueue next) {
            long now = System.nanoTime();
            long wait = 0;
            long limitOps = iops;
            if (limitOps > 0) {
                opsReadyAt = Math.max(opsReadyAt, now - burstNanos) + 1_000_000_000L * queues / limitOps;
                wait = Math.max(wait, opsReadyAt - now);
            }
            long limitBytes = bytesPerSecond;
            if (limitBytes > 0 && (r.op() == BlockOp.READ || r.op() == BlockOp.WRITE)) {
                bytesReadyAt = Math.max(bytesReadyAt, now - burstNanos)
                        + (long) ((double) r.length() * queues * 1e9 / limitBytes);
                wait = Math.max(wait, bytesReadyAt - now);
            }
            if (wait < MIN_HOLD_NANOS) return next.submit(r);
            Delays.resumeAfter(r, wait);
            return TargetQueue.PENDING;
        }
    }
}
