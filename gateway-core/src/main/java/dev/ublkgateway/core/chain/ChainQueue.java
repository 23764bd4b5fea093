package dev.ublkgateway.core.chain;

import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;

import java.util.logging.Logger;

/**
 * One queue's view of a device chain: the stages' queue handlers in YAML order, then the target's.
 * The links between them are built once, so passing a request down costs one interface call per stage.
 *
 * <p>Per tag it remembers how far a request that went PENDING got: every stage above the point where
 * it went PENDING returned PENDING too, so on completion the hooks of stages {@code unwindFrom..0}
 * run. A stage that returned PENDING with nothing pending below it holds the request: it answers it
 * itself ({@code complete}: only the stages above it unwind) or resumes it (its {@code next} runs
 * and it unwinds too).
 */
public final class ChainQueue implements TargetQueue {
    private static final Logger LOG = Logger.getLogger(ChainQueue.class.getName());
    private static final short NONE = -1;

    private final StageQueue[] stages;
    private final TargetQueue target;
    private final TargetQueue first;
    private final TargetQueue[] nexts;  // nexts[i]: what stage i sees as next
    private final short[] unwindFrom;   // per tag: the deepest stage whose completed hook runs, or NONE
    private final short[] holder;       // per tag: the stage holding the request, or NONE
    private final boolean[] pendingBelow; // per tag, while passing down: something deeper went PENDING

    public ChainQueue(StageQueue[] stages, TargetQueue target, int depth) {
        if (stages.length > Short.MAX_VALUE) throw new IllegalArgumentException("too many stages");
        this.stages = stages.clone();
        this.target = target;
        this.unwindFrom = new short[depth];
        this.holder = new short[depth];
        this.pendingBelow = new boolean[depth];
        this.nexts = new TargetQueue[stages.length];
        TargetQueue next = new TargetLink(target);
        for (int i = stages.length - 1; i >= 0; i--) {
            nexts[i] = next;
            next = new Link(i, stages[i], next);
        }
        this.first = next;
    }

    /** Stage {@code index} with its successor bound: what the previous stage sees as {@code next}. */
    private final class Link implements TargetQueue {
        private final short index;
        private final StageQueue stage;
        private final TargetQueue next;

        Link(int index, StageQueue stage, TargetQueue next) {
            this.index = (short) index;
            this.stage = stage;
            this.next = next;
        }

        @Override
        public int submit(BlockRequest request) {
            int r = stage.submit(request, next);
            if (r == PENDING) wentPending(request.tag(), index);
            return r;
        }
    }

    /** The target as the last stage's {@code next}: notes when it goes PENDING. */
    private final class TargetLink implements TargetQueue {
        private final TargetQueue target;

        TargetLink(TargetQueue target) {
            this.target = target;
        }

        @Override
        public int submit(BlockRequest request) {
            int r = target.submit(request);
            if (r == PENDING) pendingBelow[request.tag()] = true;
            return r;
        }
    }

    private void wentPending(int tag, short index) {
        if (pendingBelow[tag]) {
            if (unwindFrom[tag] < index) unwindFrom[tag] = index; // passing on what is pending below
        } else {
            holder[tag] = index; // nothing below is pending: this stage holds the request
            if (unwindFrom[tag] < index - 1) unwindFrom[tag] = (short) (index - 1);
            pendingBelow[tag] = true;
        }
    }

    @Override
    public int submit(BlockRequest request) {
        int tag = request.tag();
        unwindFrom[tag] = NONE;
        holder[tag] = NONE;
        pendingBelow[tag] = false;
        return first.submit(request);
    }

    /**
     * Runs the completion hooks, deepest first, for a request that went PENDING and is now complete
     * with {@code result}; returns what the frontend answers.
     */
    public int completed(BlockRequest request, int result) {
        int tag = request.tag();
        int from = unwindFrom[tag];
        unwindFrom[tag] = NONE;
        holder[tag] = NONE;
        return unwind(request, result, from);
    }

    private int unwind(BlockRequest request, int result, int from) {
        for (int i = from; i >= 0; i--) result = stages[i].completed(request, result);
        return result;
    }

    /**
     * Passes a held request on from the stage holding it (on the queue's thread); returns the result
     * after the hooks ran, or PENDING when something below went PENDING in turn.
     */
    public int resume(BlockRequest request) {
        int tag = request.tag();
        int h = holder[tag];
        if (h == NONE) {
            // a stage resumed a request it does not hold (a bug in that stage): leave the request to
            // whoever does own it rather than answer it twice
            LOG.severe("a stage resumed request tag " + tag + " which no stage holds; ignored");
            return PENDING;
        }
        holder[tag] = NONE;
        pendingBelow[tag] = false;
        int r;
        try {
            r = nexts[h].submit(request);
        } catch (RuntimeException | Error e) {
            unwindFrom[tag] = NONE;
            throw e;
        }
        if (r == PENDING) {
            if (unwindFrom[tag] < h) unwindFrom[tag] = (short) h;
            return PENDING;
        }
        unwindFrom[tag] = NONE;
        return unwind(request, r, h);
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
