package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.log.LimitedLog;
import dev.ublkgateway.core.queue.QueueEngine;
import dev.ublkgateway.core.queue.QueueFrontend;
import dev.ublkgateway.core.queue.QueueRequest;
import dev.ublkgateway.core.queue.UserData;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.uring.Op;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import static dev.ublkgateway.core.frontend.ublk.IoStructs.CMD_ADDR;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.CMD_Q_ID;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.CMD_RESULT;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.CMD_TAG;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.DESC_NR_SECTORS;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.DESC_OP_FLAGS;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.DESC_START_SECTOR;

/**
 * One ublk hardware queue: the ublk side of a {@link QueueEngine}, on one platform thread that owns the
 * queue's ring, buffers and tags.
 *
 * <p>FETCH_REQ every tag; each completion of one carries a request: read the tag's descriptor, hand it
 * to the engine, and answer with a COMMIT_AND_FETCH_REQ. All commits prepared while reaping one batch
 * go to the kernel in the engine's next single submit. A BATCH_IO device gets its tags and takes its
 * answers a batch at a time instead ({@link BatchCommands}); the requests are handled the same way.
 */
final class UblkQueue implements QueueFrontend<QueueRequest> {
    private static final Logger LOG = Logger.getLogger(UblkQueue.class.getName());
    private static final int KIND_IO = 0; // the only SQEs of our own: FETCH and COMMIT_AND_FETCH
    private static final int CDEV_FIXED = 0; // /dev/ublkcN is registered file 0

    /** A stage or target that throws (a plugin's bug may throw on every request) is logged a few times per 10 s. */
    private final LimitedLog failureLog = new LimitedLog(5, 10_000, "stage and target failures");

    private final int qid, depth, maxIoBytes, cdevFd;
    private final DataPath dataPath; // COPY: per-tag buffers; NONE: no buffers; ZERO_COPY: the kernel's pages
    private final boolean batched;   // a BATCH_IO device: no per-tag FETCH / COMMIT_AND_FETCH at all
    private final IntConsumer onRequest = this::request; // one object, not one per fetched batch
    private final long pollNanos; // spin this long for the next request before sleeping
    private final Target target;
    private final CountDownLatch started = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean stopping;
    private volatile Throwable failure;

    private volatile QueueEngine<QueueRequest> engine; // read by stop() on another thread
    private Ring ring;
    private MemorySegment descs, buffers;
    private int activeTags; // tags the kernel still holds a FETCH/COMMIT command for
    private BatchCommands batch; // non-null on a BATCH_IO device

    UblkQueue(String deviceName, int qid, int depth, int maxIoBytes, int pollMicros, int cdevFd,
              DataPath dataPath, boolean batched, Target target) {
        this.qid = qid;
        this.dataPath = dataPath;
        this.batched = batched;
        this.pollNanos = pollMicros * 1000L;
        this.depth = depth;
        this.maxIoBytes = maxIoBytes;
        this.cdevFd = cdevFd;
        this.target = target;
        this.thread = Thread.ofPlatform().name("ublk-" + deviceName + "-q" + qid).unstarted(this::run);
    }

    int id() {
        return qid;
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
        QueueEngine<QueueRequest> e = engine;
        if (e != null) e.stop(); // null: the queue never started
    }

    boolean join(long millis) throws InterruptedException {
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    Throwable failure() {
        return failure;
    }

    private void run() {
        try {
            setUp();
            engine.loop();
        } catch (Throwable t) {
            failure = t;
            if (started.getCount() > 0) started.countDown();
            else LOG.log(Level.SEVERE, "queue " + qid + " stopped: " + message(t), t);
        } finally {
            tearDown();
        }
    }

    private void setUp() throws Exception {
        // SQ holds a commit per tag, a target SQE per tag and the wake-up read. Only this thread uses
        // the ring, so the kernel may defer its completion work until we wait (DEFER_TASKRUN): no
        // task-work interrupt per request; QD1 ran about 1.5x faster with it in the VM benchmark.
        // TASKRUN_FLAG shows that deferred work in the SQ flags, which the engine's poll watches.
        Ring r = Ring.create(Integer.highestOneBit(2 * depth + 1) << 1,
                Op.SETUP_COOP_TASKRUN | Op.SETUP_TASKRUN_FLAG | Op.SETUP_SINGLE_ISSUER | Op.SETUP_DEFER_TASKRUN);
        QueueEngine<QueueRequest> e = new QueueEngine<>("queue " + qid, failureLog, r, qid, depth, maxIoBytes,
                pollNanos, this);
        engine = e;
        ring = r;
        ring.registerFiles(cdevFd);
        long descBytes = Libc.pageAlign((long) depth * Uapi.IO_DESC_SIZE);
        descs = Libc.mmap(descBytes, Libc.PROT_READ, Libc.MAP_SHARED | Libc.MAP_POPULATE, cdevFd,
                Uapi.descOffset(qid, Libc.PAGE_SIZE), "ublk io descriptors of queue " + qid);
        QueueRequest[] requests = new QueueRequest[depth];
        if (dataPath == DataPath.ZERO_COPY) {
            // One empty slot per tag: the kernel registers each request's pages at its tag's index
            // (the FETCH/COMMIT says which) and drops them at the commit.
            ring.registerSparseBuffers(depth);
            for (int t = 0; t < depth; t++) requests[t] = new QueueRequest(e, t, MemorySegment.NULL, t);
        } else {
            // Page-aligned per-tag buffers, reserved lazily: untouched tags cost no memory.
            buffers = Libc.mmap((long) depth * maxIoBytes, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0, "queue buffers");
            for (int t = 0; t < depth; t++) {
                requests[t] = new QueueRequest(e, t, buffers.asSlice((long) t * maxIoBytes, maxIoBytes));
            }
        }
        if (batched) {
            MemorySegment b = buffers;
            batch = new BatchCommands(ring, qid, depth, dataPath,
                    t -> b == null ? 0L : b.address() + (long) t * maxIoBytes);
            batch.prepare();
            e.open(requests, target);
            batch.startFetching();
        } else {
            e.open(requests, target);
            for (int t = 0; t < depth; t++) ioCommand(Uapi.IO_FETCH_REQ, t, 0);
            activeTags = depth;
        }
        ring.submit();
        started.countDown();
    }

    /** Done when the kernel holds no tag, or the device is stopped; never while the ring writes our buffers. */
    @Override
    public boolean finished() {
        boolean drained = batch != null ? batch.drained() : activeTags == 0;
        return (drained || stopping) && !engine.busy();
    }

    @Override
    public void onCompletion(int kind, long tag, int res, int cqeFlags) {
        if (batch != null) {
            batch.onCompletion(kind, (int) tag, res, cqeFlags, onRequest, stopping);
        } else if (res == Uapi.IO_RES_OK) {
            request((int) tag);
        } else {
            // ABORT: the device is going away; any other error means the kernel dropped this tag.
            if (res != Uapi.IO_RES_ABORT) {
                LOG.warning("queue " + qid + " tag " + tag + ": io command failed: " + Libc.describe(-res));
            }
            activeTags--;
        }
    }

    private void request(int tag) {
        long d = (long) tag * Uapi.IO_DESC_SIZE;
        int opFlags = (int) DESC_OP_FLAGS.get(descs, d);
        int sectors = (int) DESC_NR_SECTORS.get(descs, d);
        long start = (long) DESC_START_SECTOR.get(descs, d);
        QueueRequest r = engine.request(tag);
        int op = opFlags & 0xff;
        r.set(op, opFlags & ~0xff, start << 9, sectors << 9);
        if (op == BlockOp.READ || op == BlockOp.WRITE || op == BlockOp.FLUSH || op == BlockOp.DISCARD
                || op == BlockOp.WRITE_ZEROES) {
            engine.submit(r);
        } else {
            reply(r, -Errno.EOPNOTSUPP);
        }
    }

    /** Commits the result; the same command fetches the tag's next request. */
    @Override
    public void reply(QueueRequest r, int result) {
        if (batch != null) {
            batch.commit(r.tag(), result);
            return;
        }
        try {
            ioCommand(Uapi.IO_COMMIT_AND_FETCH_REQ, r.tag(), result);
        } catch (UringException e) {
            throw new IllegalStateException("queue " + qid + ": cannot queue commit: " + e.getMessage(), e);
        }
    }

    /** A BATCH_IO device's answers of this loop turn go to the kernel in one command. */
    @Override
    public void afterBatch() {
        if (batch != null) batch.flush();
    }

    private void ioCommand(int cmdOp, int tag, int result) throws UringException {
        long s = ring.prepUringCmd(CDEV_FIXED, cmdOp, UserData.of(KIND_IO, tag));
        ring.setFlags(s, Op.SQE_FIXED_FILE);
        fillIoCommand(ring.sqes(), s, qid, tag, result, dataPath,
                dataPath == DataPath.COPY ? engine.request(tag).whole().address() : 0L);
    }

    /**
     * The FETCH / COMMIT_AND_FETCH payload of the SQE at {@code s}. A USER_COPY device takes no buffer
     * address (the kernel rejects one); a zero-copy one names, in the SQE's own addr field, the buffer-table
     * slot (the tag) where the kernel registers the tag's next request.
     */
    static void fillIoCommand(MemorySegment sq, long s, int qid, int tag, int result, DataPath dataPath, long buffer) {
        long c = s + Ring.SQE_CMD;
        CMD_Q_ID.set(sq, c, (short) qid);
        CMD_TAG.set(sq, c, (short) tag);
        CMD_RESULT.set(sq, c, result);
        CMD_ADDR.set(sq, c, dataPath == DataPath.COPY ? buffer : 0L);
        sq.set(java.lang.foreign.ValueLayout.JAVA_LONG, s + Ring.SQE_ADDR,
                dataPath == DataPath.ZERO_COPY ? Uapi.autoBufReg(tag, 0) : 0L);
    }

    private void tearDown() {
        if (engine != null) engine.close(); // the target's queue, then the ring: nothing writes our buffers after
        if (batch != null) batch.close();
        if (descs != null) Libc.munmap(descs);
        if (buffers != null) Libc.munmap(buffers);
    }

    static String message(Throwable t) {
        return QueueEngine.message(t);
    }
}
