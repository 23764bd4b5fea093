package dev.ublkgateway.core.queue;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.ChainQueue;
import dev.ublkgateway.core.log.LimitedLog;
import dev.ublkgateway.core.uring.CompletionHandler;
import dev.ublkgateway.core.uring.Mailbox;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The engine under every frontend: one thread, one ring and one mailbox serve {@code depth} tags of a
 * device's queue. It runs the device's stages and target for each request the frontend hands it,
 * routes a target's own CQEs back to that target, takes results and resumes from other threads through
 * the mailbox, and answers a request whose stage or target throws with EIO. The frontend reads
 * requests in and sends results out ({@link QueueFrontend}).
 *
 * <p>Created on the queue thread, which then owns it; only {@link #stop}, {@link #completeLater} and
 * {@link #resumeLater} may be called from other threads.
 */
public final class QueueEngine<R extends QueueRequest> implements RingQueueContext, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(QueueEngine.class.getName());
    private static final int SUBMIT = 0, COMPLETED = 1, RESUME = 2; // the steps that run plugin code

    private final String name;
    private final LimitedLog failureLog;
    private final Ring ring;
    private final Mailbox mailbox;
    private final int queueId, depth, maxIoBytes;
    private final long pollNanos;
    private final QueueFrontend<R> frontend;
    private final Thread owner = Thread.currentThread();
    private volatile boolean stopping;

    private R[] requests;
    private TargetQueue targetQueue;
    private ChainQueue chain;            // non-null when stages sit before the target
    private RingTargetQueue ringTarget;  // non-null when the target issues SQEs on this ring
    private int targetInFlight;          // target SQEs not yet completed
    private int held;                    // requests left PENDING by the target or a stage
    private final CompletionHandler onCompletion = this::onCompletion; // one object, not one per batch
    private final Mailbox.Receiver fromOtherThreads = new Mailbox.Receiver() {
        @Override
        public void completed(int tag, int result) {
            QueueEngine.this.completed(tag, result);
        }

        @Override
        public void resumed(int tag) {
            resume(tag);
        }
    };

    /**
     * Takes over {@code ring} (closed by {@link #close}, or here when this fails).
     *
     * @param name       names the queue in log lines
     * @param failureLog where failing stages and targets are logged
     * @param pollNanos  spin this long for the next completion before sleeping (the ring needs
     *                   {@code SETUP_TASKRUN_FLAG}); 0: sleep at once
     */
    public QueueEngine(String name, LimitedLog failureLog, Ring ring, int queueId, int depth, int maxIoBytes,
                       long pollNanos, QueueFrontend<R> frontend) throws Exception {
        this.name = name;
        this.failureLog = failureLog;
        this.ring = ring;
        this.queueId = queueId;
        this.depth = depth;
        this.maxIoBytes = maxIoBytes;
        this.pollNanos = pollNanos;
        this.frontend = frontend;
        try {
            this.mailbox = new Mailbox(name, depth);
        } catch (Exception | Error e) {
            ring.close();
            throw e;
        }
    }

    @Override public int queueId() { return queueId; }
    @Override public int depth() { return depth; }
    @Override public int maxIoBytes() { return maxIoBytes; }
    @Override public Ring ring() { return ring; }

    @Override
    public long targetUserData(int tag, int cookie) {
        targetInFlight++;
        return UserData.target(tag, cookie);
    }

    /** Opens the target's queue for these requests (one per tag) and arms the mailbox. */
    public void open(R[] requests, Target target) throws Exception {
        this.requests = requests;
        targetQueue = target.openQueue(this);
        chain = targetQueue instanceof ChainQueue c ? c : null;
        TargetQueue innermost = chain != null ? chain.target() : targetQueue;
        ringTarget = innermost instanceof RingTargetQueue r ? r : null;
        armWake();
    }

    public R request(int tag) {
        return requests[tag];
    }

    /** Target SQEs or held requests outstanding: the ring must not close yet (they write our buffers). */
    public boolean busy() {
        return targetInFlight > 0 || held > 0;
    }

    /** From any thread: stop re-arming the mailbox and wake the loop, which then checks its frontend. */
    public void stop() {
        stopping = true;
        mailbox.wake();
    }

    public boolean stopping() {
        return stopping;
    }

    /** Runs the stages and target for a request the frontend filled in; replies at once unless PENDING. */
    public void submit(R r) {
        int result = run(SUBMIT, r, 0);
        if (result == TargetQueue.PENDING) {
            r.held = true;
            held++;
        } else {
            frontend.reply(r, result);
        }
    }

    /** Until the frontend is finished: submit what is prepared, wait, hand out the completions. */
    public void loop() throws UringException {
        while (!frontend.finished()) {
            if (pollNanos > 0) poll();
            ring.submitAndWait(1);
            ring.reap(onCompletion);
            frontend.afterBatch();
        }
        // answers of the last batch (a hand-over ends with requests answered): one the kernel gets is
        // one it need not give the next server again
        if (ring.pending() > 0) ring.submit();
    }

    /**
     * Hands the prepared SQEs to the kernel, then spins until a completion is on its way (the ring's
     * task-run flag, no system call) or the poll time is up: a request that comes within it is taken
     * without the thread going to sleep and being woken (in the VM benchmark, 3x the QD1 rate at 200 us).
     */
    private void poll() throws UringException {
        if (ring.pending() > 0) ring.submit();
        long end = System.nanoTime() + pollNanos;
        while (!ring.taskWorkPending() && ring.ready() == 0 && System.nanoTime() < end) Thread.onSpinWait();
    }

    private void onCompletion(long userData, int result, int cqeFlags) {
        int kind = UserData.kind(userData);
        if (kind < UserData.FRONTEND_KINDS) {
            frontend.onCompletion(kind, UserData.payload(userData), result, cqeFlags);
        } else if (kind == UserData.TARGET) {
            targetInFlight--;
            ringTarget.onRingCompletion(UserData.tag(userData), UserData.cookie(userData), result);
        } else {
            mailbox.drain(fromOtherThreads);
            if (!stopping) armWake();
        }
    }

    /** A held request's result, from any thread; from another one it is handed over through the mailbox. */
    void completeLater(int tag, int result) {
        if (Thread.currentThread() == owner) completed(tag, result);
        else mailbox.complete(tag, result);
    }

    /** A stage passes on a request it held; always through the mailbox, so no stage is re-entered. */
    void resumeLater(int tag) {
        mailbox.resume(tag);
    }

    /** A request that went PENDING finished: unwind the stages, then reply. */
    private void completed(int tag, int result) {
        R r = requests[tag];
        r.held = false;
        held--;
        if (chain != null) result = run(COMPLETED, r, result);
        frontend.reply(r, result);
    }

    /** Passes on a request a stage held; replies when it finishes at once. */
    private void resume(int tag) {
        R r = requests[tag];
        if (chain == null || !r.held) {
            failureLog.log(LOG, Level.SEVERE, name + ": resume of a request no stage holds (tag " + tag + "); ignored");
            return;
        }
        int result = run(RESUME, r, 0);
        if (result == TargetQueue.PENDING) return;
        r.held = false;
        held--;
        frontend.reply(r, result);
    }

    /** One step of plugin code; one that throws fails this request with EIO, never the queue. */
    private int run(int step, R r, int result) {
        try {
            return switch (step) {
                case SUBMIT -> targetQueue.submit(r);
                case COMPLETED -> chain.completed(r, result);
                default -> chain.resume(r);
            };
        } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
            String what = switch (step) {
                case SUBMIT -> "target failed on " + BlockOp.name(r.op());
                case COMPLETED -> "stage failed on completion";
                default -> "stage failed on resume";
            };
            failureLog.log(LOG, Level.SEVERE, name + ": " + what + ": " + message(e), e);
            return -Errno.EIO;
        }
    }

    private void armWake() {
        try {
            mailbox.arm(ring, UserData.of(UserData.WAKE, 0));
        } catch (UringException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Closes the target's queue, then the ring (which cancels what is still in flight) and the mailbox. */
    @Override
    public void close() {
        if (targetQueue != null) {
            try {
                targetQueue.close();
            } catch (Exception e) {
                LOG.warning(name + ": closing the target's queue: " + message(e));
            }
        }
        ring.close();
        mailbox.close();
    }

    public static String message(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}
