package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.Delays;
import dev.ublkgateway.core.log.LogText;
import dev.ublkgateway.api.Errno;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Value;

import java.io.IOException;

/**
 * One queue's hook: calls {@code onRequest} (or {@code onFlush}) in the queue's own context and acts
 * on the answer. Counters are plain fields written by the queue thread only; the control thread reads
 * them for {@code onTick} (a slightly stale read is fine there).
 */
final class HookQueue implements StageQueue {
    static final int OPS = 6, BUCKETS = 40;

    private final ScriptStage stage;
    private final int queueId;
    private ScriptInstance instance;
    private long generation;
    private volatile boolean closed;

    // counters for onTick, written by the queue thread only
    final long[] count = new long[OPS], bytes = new long[OPS];
    final long[] tagged = new long[Prelude.MAX_TAGS];
    final long[] latency = new long[BUCKETS];
    long denied, delayed, failures;
    // for the metrics endpoint, by hook (Watchdog.Guard.REQUEST, FLUSH): calls, and those that denied or failed
    final long[] hookCalls = new long[2], hookDenied = new long[2], hookErrors = new long[2];
    private final long[] started;

    HookQueue(ScriptStage stage, QueueContext queue) throws IOException {
        this.stage = stage;
        this.queueId = queue.queueId();
        this.started = new long[queue.depth()];
        ScriptStage.Version v = stage.version();
        try {
            instance = ScriptInstance.open(stage.engine, v.source(), v.text(), stage.scope, queueId, stage.deviceJson(),
                    stage.budgetNanos, v.generation());
        } catch (ScriptException e) {
            throw new IOException("device " + stage.scope.device + " queue " + queueId + ": " + e.getMessage(), e);
        }
        generation = v.generation();
    }

    @Override
    public int submit(BlockRequest r, TargetQueue next) {
        ScriptStage.Version v = stage.version();
        if (v.generation() != generation) reload(v);
        int op = r.op();
        ScriptInstance in = instance;
        long delayUs = 0;
        boolean flushHook = op == BlockOp.FLUSH && in.flush != null;
        Value fn = flushHook ? in.flush : in.request;
        if (fn != null) {
            long res;
            int hook = flushHook ? Watchdog.Guard.FLUSH : Watchdog.Guard.REQUEST;
            hookCalls[hook]++;
            Watchdog.Guard guard = in.guard;
            guard.armCall(flushHook ? Watchdog.Guard.FLUSH : Watchdog.Guard.REQUEST);
            try {
                res = fn.execute(op, r.offset(), r.length(), r.flags()).asLong();
            } catch (PolyglotException | ClassCastException | IllegalStateException e) {
                guard.disarm();
                failures++;
                hookErrors[hook]++;
                String what = e instanceof PolyglotException pe ? stage.describe(pe, guard) : e.getMessage();
                stage.failure(flushHook ? "onFlush" : "onRequest", what);
                if (!stage.config.failOpen()) return -Errno.EIO;
                res = 0;
            } finally {
                guard.disarm();
            }
            if (res < 0) {
                denied++;
                hookDenied[hook]++;
                return (int) Math.max(res, -4095);
            }
            if (res != 0) {
                int tag = (int) (res >>> 32);
                delayUs = res & 0xffff_ffffL;
                if (tag > 0 && tag < tagged.length) tagged[tag]++;
            }
        }
        if (stage.scope.hookEnforcesReadOnly() && stage.scope.readOnly
                && (op == BlockOp.WRITE || op == BlockOp.DISCARD || op == BlockOp.WRITE_ZEROES)) {
            denied++;
            return -Errno.EROFS;
        }
        if (delayUs > 0) {
            // held off the queue thread; the chain passes it on after the delay and calls completed
            delayed++;
            long delayNanos = delayUs * 1000;
            if (v.measures()) started[r.tag()] = System.nanoTime() + delayNanos; // time the target, not the delay
            else count(r);
            Delays.resumeAfter(r, delayNanos);
            return TargetQueue.PENDING;
        }
        if (!v.measures()) {
            count(r);
            return next.submit(r);
        }
        long t0 = System.nanoTime();
        int result = next.submit(r);
        if (result == TargetQueue.PENDING) {
            started[r.tag()] = t0;
            return result;
        }
        record(r, System.nanoTime() - t0);
        return result;
    }

    @Override
    public int completed(BlockRequest r, int result) {
        if (stage.version().measures()) record(r, System.nanoTime() - started[r.tag()]);
        return result;
    }

    private void count(BlockRequest r) {
        int op = r.op();
        if (op >= 0 && op < OPS) {
            count[op]++;
            bytes[op] += r.length();
        }
    }

    private void record(BlockRequest r, long nanos) {
        count(r);
        latency[Math.min(BUCKETS - 1, 64 - Long.numberOfLeadingZeros(Math.max(nanos, 1)))]++;
    }

    /** Switches this queue to version {@code v}; when that fails here, keeps the old one and says so. */
    private void reload(ScriptStage.Version v) {
        generation = v.generation();
        try {
            ScriptInstance next = ScriptInstance.open(stage.engine, v.source(), v.text(), stage.scope, queueId,
                    stage.deviceJson(), stage.budgetNanos, v.generation());
            ScriptInstance old = instance;
            instance = next;
            old.close();
        } catch (ScriptException e) {
            DeviceScope.LOG.severe("device " + stage.scope.device + " queue " + queueId
                    + ": script version " + v.generation() + " failed to load, the previous version keeps running: "
                    + LogText.oneLine(e.getMessage()));
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        instance.close();
        stage.closed(this);
    }
}
