package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.Delays;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Injects failures and delays, for testing what sits above a device: requests of the chosen ops that
 * touch [from, to) are delayed and/or failed with an errno, with a probability, after skipping the
 * first {@code after} matches.
 */
public final class FaultStage implements BlockStage {
    private final int opMask;
    private final long from, to;
    private final int errno;          // 0: delay only
    private final double probability;
    private final long delayNanos;
    private final long after;
    private final AtomicLong matches = new AtomicLong();

    public FaultStage(int opMask, long from, long to, int errno, double probability, long delayMicros, long after) {
        this.opMask = opMask;
        this.from = from;
        this.to = to;
        this.errno = errno;
        this.probability = probability;
        this.delayNanos = delayMicros * 1000L;
        this.after = after;
    }

    /** Fails or delays requests by op and range, never touching their bytes nor keeping data. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.passThrough();
    }

    @Override
    public StageQueue openQueue(QueueContext queue) {
        SplittableRandom random = new SplittableRandom(0x5eed + queue.queueId());
        return (r, next) -> {
            if ((opMask & (1 << r.op())) == 0 || !overlaps(r)) return next.submit(r);
            if (matches.incrementAndGet() <= after) return next.submit(r);
            if (probability < 1.0 && random.nextDouble() >= probability) return next.submit(r);
            if (delayNanos == 0) return errno != 0 ? -errno : next.submit(r);
            // delayed: held off the queue thread, then failed or passed on
            if (errno != 0) Delays.completeAfter(r, delayNanos, -errno);
            else Delays.resumeAfter(r, delayNanos);
            return TargetQueue.PENDING;
        };
    }

    private boolean overlaps(BlockRequest r) {
        long end = r.offset() + Math.max(r.length(), 1);
        return r.offset() < to && end > from;
    }
}
