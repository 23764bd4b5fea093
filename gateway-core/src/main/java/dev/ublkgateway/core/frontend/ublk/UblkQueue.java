package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.ChainQueue;
import dev.ublkgateway.core.log.LimitedLog;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.uring.CompletionHandler;
import dev.ublkgateway.core.uring.Mailbox;
import dev.ublkgateway.core.uring.Op;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One ublk hardware queue, served by one platform thread that owns the queue's ring, buffers and tags.
 *
 * <p>The loop: FETCH_REQ every tag; then repeatedly submit-and-wait, and for each completion read the
 * tag's descriptor, run the target, and queue a COMMIT_AND_FETCH_REQ. All commits prepared while
 * reaping one batch go to the kernel in the next single submit.
 */
final class UblkQueue implements RingQueueContext {
    private static final Logger LOG = Logger.getLogger(UblkQueue.class.getName());
    /** A stage or target that throws (a plugin's bug may throw on every request) is logged a few times per 10 s. */
    private final LimitedLog failureLog = new LimitedLog(5, 10_000, "stage and target failures");

    // user_data = kind << 56 | cookie << 16 | tag
    private static final int KIND_SHIFT = 56;
    private static final long KIND_IO = 0, KIND_TARGET = 1, KIND_WAKE = 2;
    private static final int CDEV_FIXED = 0; // /dev/ublkcN is registered file 0
    // struct ublksrv_io_cmd inside sqe->cmd
    private static final long IO_Q_ID = 0, IO_TAG = 2, IO_RESULT = 4, IO_ADDR = 8;
    // struct ublksrv_io_desc
    private static final long D_OP_FLAGS = 0, D_NR_SECTORS = 4, D_START_SECTOR = 8;

    private final int qid, depth, maxIoBytes, cdevFd;
    private final boolean copiesData; // false: USER_COPY device whose target needs no data; no buffers given
    private final long pollNanos; // spin this long for the next request before sleeping
    private final Target target;
    private final CountDownLatch started = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean stopping;
    private volatile Throwable failure;

    private Ring ring;
    private volatile Mailbox mailbox; // results and resumes from other threads
    private MemorySegment descs, buffers;
    private TagRequest[] requests;
    private TargetQueue targetQueue;
    private ChainQueue chain; // non-null when stages sit before the target
    private RingTargetQueue ringTargetQueue;
    private int activeTags;    // tags the kernel still holds a FETCH/COMMIT command for
    private int targetInFlight; // target SQEs not yet completed
    private int asyncInFlight;  // requests left PENDING by the target or a stage
    private final CompletionHandler onCompletion = this::onCompletion; // one object, not one per batch
    private final Mailbox.Receiver fromOtherThreads = new Mailbox.Receiver() {
        @Override
        public void completed(int tag, int result) {
            asyncInFlight--;
            commitCompleted(tag, result);
        }

        @Override
        public void resumed(int tag) {
            resume(tag);
        }
    };

    UblkQueue(String deviceName, int qid, int depth, int maxIoBytes, int pollMicros, int cdevFd,
              boolean copiesData, Target target) {
        this.qid = qid;
        this.copiesData = copiesData;
        this.pollNanos = pollMicros * 1000L;
        this.depth = depth;
        this.maxIoBytes = maxIoBytes;
        this.cdevFd = cdevFd;
        this.target = target;
        this.thread = Thread.ofPlatform().name("ublk-" + deviceName + "-q" + qid).unstarted(this::run);
    }

    @Override public int queueId() { return qid; }
    @Override public int depth() { return depth; }
    @Override public int maxIoBytes() { return maxIoBytes; }
    @Override public Ring ring() { return ring; }

    int id() {
        return qid;
    }

    @Override
    public long targetUserData(int tag, int cookie) {
        targetInFlight++;
        return KIND_TARGET << KIND_SHIFT | (long) (cookie & 0xffffffffL) << 16 | tag;
    }

    /** Starts the thread and waits until every tag's FETCH_REQ is with the kernel. */
    void start() throws UblkException {
        thread.start();
        try {
            started.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UblkException("interrupted while starting queue " + qid);
        }
        if (failure != null) throw new UblkException("queue " + qid + " failed to start: " + message(failure));
    }

    /** Asks the loop to finish once in-flight target I/O is done; the device must already be stopped. */
    void stop() {
        stopping = true;
        Mailbox m = mailbox;
        if (m != null) m.wake(); // null: the queue never started
    }

    boolean join(long millis) throws InterruptedException {
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    Throwable failure() {
        return failure;
    }

    /** Completion from any thread; on another thread it is handed over through the mailbox. */
    void completeLater(int tag, int result) {
        if (Thread.currentThread() == thread) {
            asyncInFlight--;
            commitCompleted(tag, result);
            return;
        }
        mailbox.complete(tag, result);
    }

    /** A stage passes on a request it held; always through the mailbox, so no stage is re-entered. */
    void resumeLater(int tag) {
        mailbox.resume(tag);
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            setUp(arena);
            loop();
        } catch (Throwable t) {
            failure = t;
            if (started.getCount() > 0) started.countDown();
            else LOG.log(Level.SEVERE, "queue " + qid + " stopped: " + message(t), t);
        } finally {
            tearDown();
        }
    }

    private void setUp(Arena arena) throws Exception {
        // SQ holds a commit per tag, a target SQE per tag and the wake-up read. Only this thread uses
        // the ring, so the kernel may defer its completion work until we wait (DEFER_TASKRUN): no
        // task-work interrupt per request; QD1 ran about 1.5x faster with it in the VM benchmark.
        // TASKRUN_FLAG shows that deferred work in the SQ flags, which poll() watches.
        ring = Ring.create(Integer.highestOneBit(2 * depth + 1) << 1,
                Op.SETUP_COOP_TASKRUN | Op.SETUP_TASKRUN_FLAG | Op.SETUP_SINGLE_ISSUER | Op.SETUP_DEFER_TASKRUN);
        ring.registerFiles(cdevFd);
        mailbox = new Mailbox("queue " + qid, depth);
        long descBytes = Libc.pageAlign((long) depth * Uapi.IO_DESC_SIZE);
        descs = Libc.mmap(descBytes, Libc.PROT_READ, Libc.MAP_SHARED | Libc.MAP_POPULATE, cdevFd,
                Uapi.descOffset(qid, Libc.PAGE_SIZE), "ublk io descriptors of queue " + qid);
        // Page-aligned per-tag buffers, reserved lazily: untouched tags cost no memory.
        buffers = Libc.mmap((long) depth * maxIoBytes, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0, "queue buffers");
        requests = new TagRequest[depth];
        for (int t = 0; t < depth; t++) {
            requests[t] = new TagRequest(this, t, buffers.asSlice((long) t * maxIoBytes, maxIoBytes));
        }
        targetQueue = target.openQueue(this);
        chain = targetQueue instanceof ChainQueue c ? c : null;
        TargetQueue innermost = chain != null ? chain.target() : targetQueue;
        ringTargetQueue = innermost instanceof RingTargetQueue r ? r : null;
        for (int t = 0; t < depth; t++) ioCommand(Uapi.IO_FETCH_REQ, t, 0);
        activeTags = depth;
        armWake();
        ring.submit();
        started.countDown();
    }

    private void loop() throws UringException {
        while (activeTags > 0 || targetInFlight > 0 || asyncInFlight > 0) {
            // device stopped: closing the ring cancels the rest, once no other thread writes a buffer
            if (stopping && targetInFlight == 0 && asyncInFlight == 0) break;
            if (pollNanos > 0) poll();
            ring.submitAndWait(1);
            ring.reap(onCompletion);
        }
    }

    /**
     * Hands the commits to the kernel, then spins until a completion is on its way (the ring's
     * task-run flag, no system call) or the poll time is up: a request that comes within it is taken
     * without the thread going to sleep and being woken (in the VM benchmark, 3x the QD1 rate at 200 us).
     */
    private void poll() throws UringException {
        if (ring.pending() > 0) ring.submit();
        long end = System.nanoTime() + pollNanos;
        while (!ring.taskWorkPending() && ring.ready() == 0 && System.nanoTime() < end) Thread.onSpinWait();
    }

    private void onCompletion(long userData, int res, int cqeFlags) {
        int kind = (int) (userData >>> KIND_SHIFT);
        int tag = (int) (userData & 0xffff);
        if (kind == KIND_IO) {
            onIoCommand(tag, res);
        } else if (kind == KIND_TARGET) {
            targetInFlight--;
            ringTargetQueue.onRingCompletion(tag, (int) (userData >>> 16), res);
        } else if (kind == KIND_WAKE) {
            mailbox.drain(fromOtherThreads);
            if (!stopping) armWake();
        }
    }

    private void onIoCommand(int tag, int res) {
        if (res == Uapi.IO_RES_OK) {
            long d = (long) tag * Uapi.IO_DESC_SIZE;
            int opFlags = descs.get(JAVA_INT, d + D_OP_FLAGS);
            int sectors = descs.get(JAVA_INT, d + D_NR_SECTORS);
            long start = descs.get(JAVA_LONG, d + D_START_SECTOR);
            TagRequest r = requests[tag];
            int op = opFlags & 0xff;
            r.set(op, opFlags & ~0xff, start << 9, sectors << 9);
            int result;
            if (op == BlockOp.READ || op == BlockOp.WRITE || op == BlockOp.FLUSH || op == BlockOp.DISCARD
                    || op == BlockOp.WRITE_ZEROES) {
                try {
                    result = targetQueue.submit(r);
                } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
                    // a failing stage or target fails this request, not the queue
                    failureLog.log(LOG, Level.SEVERE, "queue " + qid + ": target failed on " + BlockOp.name(op) + ": "
                            + message(e), e);
                    result = -Errno.EIO;
                }
            } else {
                result = -Errno.EOPNOTSUPP;
            }
            if (result != TargetQueue.PENDING) commit(tag, result);
            else asyncInFlight++;
        } else {
            // ABORT: the device is going away; any other error means the kernel dropped this tag.
            if (res != Uapi.IO_RES_ABORT) {
                LOG.warning("queue " + qid + " tag " + tag + ": io command failed: " + Libc.describe(-res));
            }
            activeTags--;
        }
    }

    /** A request that went PENDING finished: unwind the stages, then commit. */
    private void commitCompleted(int tag, int result) {
        if (chain != null) {
            try {
                result = chain.completed(requests[tag], result);
            } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
                failureLog.log(LOG, Level.SEVERE, "queue " + qid + ": stage failed on completion: " + message(e), e);
                result = -Errno.EIO;
            }
        }
        commit(tag, result);
    }

    private void commit(int tag, int result) {
        try {
            ioCommand(Uapi.IO_COMMIT_AND_FETCH_REQ, tag, result);
        } catch (UringException e) {
            throw new IllegalStateException("queue " + qid + ": cannot queue commit: " + e.getMessage(), e);
        }
    }

    private void ioCommand(int cmdOp, int tag, int result) throws UringException {
        long s = ring.prepUringCmd(CDEV_FIXED, cmdOp, KIND_IO << KIND_SHIFT | tag);
        ring.setFlags(s, Op.SQE_FIXED_FILE);
        MemorySegment sq = ring.sqes();
        long c = s + Ring.SQE_CMD;
        sq.set(JAVA_SHORT, c + IO_Q_ID, (short) qid);
        sq.set(JAVA_SHORT, c + IO_TAG, (short) tag);
        sq.set(JAVA_INT, c + IO_RESULT, result);
        // a USER_COPY device takes no buffer address (the kernel rejects one)
        sq.set(JAVA_LONG, c + IO_ADDR, copiesData ? requests[tag].bufferAddress() : 0);
    }

    private void armWake() {
        try {
            mailbox.arm(ring, KIND_WAKE << KIND_SHIFT);
        } catch (UringException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Passes on a request a stage held; commits it when it finishes at once. */
    private void resume(int tag) {
        if (chain == null) {
            failureLog.log(LOG, Level.SEVERE, "queue " + qid + ": resume of tag " + tag + " on a device without stages; ignored");
            return;
        }
        int result;
        try {
            result = chain.resume(requests[tag]);
        } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
            failureLog.log(LOG, Level.SEVERE, "queue " + qid + ": stage failed on resume: " + message(e), e);
            result = -Errno.EIO;
        }
        if (result != TargetQueue.PENDING) {
            asyncInFlight--;
            commit(tag, result);
        }
    }

    private void tearDown() {
        if (targetQueue != null) {
            try {
                targetQueue.close();
            } catch (Exception e) {
                LOG.warning("queue " + qid + ": closing target queue: " + message(e));
            }
        }
        if (ring != null) ring.close();
        if (mailbox != null) mailbox.close();
        if (descs != null) Libc.munmap(descs);
        if (buffers != null) Libc.munmap(buffers);
    }

    static String message(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}
