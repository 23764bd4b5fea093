package dev.ublkgateway.core.chain;

import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;

/**
 * One queue's view of a device chain: the stages' queue handlers in YAML order, then the target's.
 * The links between them are built once, so passing a request down costs one interface call per stage.
 */
public final class ChainQueue implements TargetQueue {
    private final StageQueue[] stages;
    private final TargetQueue target;
    private final TargetQueue first;

    public ChainQueue(StageQueue[] stages, TargetQueue target) {
        this.stages = stages.clone();
        this.target = target;
        TargetQueue next = target;
        for (int i = stages.length - 1; i >= 0; i--) next = new Link(stages[i], next);
        this.first = next;
    }

    /** Stage {@code stage} with its successor bound: what the previous stage sees as {@code next}. */
    private record Link(StageQueue stage, TargetQueue next) implements TargetQueue {
        @Override
        public int submit(BlockRequest request) {
            return stage.submit(request, next);
        }
    }

    @Override
    public int submit(BlockRequest request) {
        return first.submit(request);
    }

    /** Runs the stages' completion hooks, last to first, for a request that went PENDING. */
    public int completed(BlockRequest request, int result) {
        for (int i = stages.length - 1; i >= 0; i--) result = stages[i].completed(request, result);
        return result;
    }

    /** The target's own queue handler (the ring-driven queue needs it for its completions). */
    public TargetQueue target() {
        return target;
    }

    @Override
    public void close() {
        for (StageQueue s : stages) s.close();
        try {
            target.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
