package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.queue.UserData;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.uring.Op;
import dev.ublkgateway.core.uring.ProvidedBuffer;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import java.util.function.IntToLongFunction;
import java.util.logging.Logger;

import static dev.ublkgateway.core.frontend.ublk.IoStructs.BATCH_ELEM_BYTES;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.BATCH_FLAGS;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.BATCH_NR_ELEM;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.BATCH_Q_ID;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.ELEM_BUF_INDEX;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.ELEM_RESULT;
import static dev.ublkgateway.core.frontend.ublk.IoStructs.ELEM_TAG;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A queue's commands on a BATCH_IO device (UBLK_F_BATCH_IO): one PREP_IO_CMDS hands every tag (and its
 * buffer) to the kernel once; two multishot FETCH_IO_CMDS receive the tags of new requests, as many
 * per completion as the kernel has, into buffers it fills itself; and the answers of one loop turn go
 * back in one COMMIT_IO_CMDS, after which the kernel hands those tags out again. That replaces one
 * uring_cmd per request (FETCH / COMMIT_AND_FETCH_REQ) with a few per batch. Queue thread only.
 */
final class BatchCommands implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BatchCommands.class.getName());
    static final int KIND_PREP = 1, KIND_COMMIT = 2, KIND_FETCH = 3; // UserData kinds; per-tag commands use 0
    private static final int CDEV_FIXED = 0;
    /** Two fetches: while one is given a fresh buffer, the other keeps delivering. */
    private static final int FETCHES = 2;

    private final Ring ring;
    private final int qid, depth, elemBytes, batchFlags;
    private final boolean zeroCopy;
    private final IntToLongFunction bufferAddress; // a tag's buffer, for devices that copy
    private final ProvidedBuffer[] fetch = new ProvidedBuffer[FETCHES];
    private final int[] fetchOffset = new int[FETCHES];     // bytes of the buffer already read
    // Two commit buffers of one element per tag: answers gather in one while the other is with the kernel.
    private final MemorySegment commitMemory;
    private final MemorySegment[] commit = new MemorySegment[2];
    private final int[] commitCount = new int[2];            // elements written (current) or sent (other)
    private final boolean[] commitSent = new boolean[2];
    private int current;
    private int inFlight; // our commands the kernel still holds: the queue is drained at 0

    BatchCommands(Ring ring, int qid, int depth, DataPath dataPath, IntToLongFunction bufferAddress)
            throws NativeException {
        this.ring = ring;
        this.qid = qid;
        this.depth = depth;
        this.zeroCopy = dataPath == DataPath.ZERO_COPY;
        boolean hasBuffers = dataPath == DataPath.COPY;
        this.batchFlags = hasBuffers ? Uapi.BATCH_F_HAS_BUF_ADDR : 0;
        this.elemBytes = hasBuffers ? 16 : 8; // the header, then the buffer's address
        this.bufferAddress = bufferAddress;
        long commitBytes = Libc.pageAlign((long) depth * elemBytes);
        this.commitMemory = Libc.mmap(2 * commitBytes, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_POPULATE, -1, 0, "batch commit buffers");
        for (int b = 0; b < 2; b++) commit[b] = commitMemory.asSlice(b * commitBytes, commitBytes);
        try {
            // a fetch delivers 2-byte tags; one buffer holds every tag at least once (a page or more)
            for (int i = 0; i < FETCHES; i++) fetch[i] = ProvidedBuffer.register(ring, i, 2L * depth);
        } catch (NativeException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * PREP_IO_CMDS for every tag, waited for: a kernel that refuses it would otherwise leave START_DEV
     * waiting for tags that never come. Runs before anything else is in flight on the ring.
     */
    void prepare() throws UblkException, UringException {
        for (int t = 0; t < depth; t++) element(0, t, t, 0);
        command(Uapi.IO_PREP_IO_CMDS, KIND_PREP, 0, commit[0], depth);
        int[] result = {Integer.MIN_VALUE};
        while (result[0] == Integer.MIN_VALUE) {
            ring.submitAndWait(1);
            ring.reap((ud, res, flags) -> {
                if (UserData.kind(ud) == KIND_PREP) result[0] = res;
            });
        }
        inFlight--;
        if (result[0] < 0) {
            throw new UblkException("queue " + qid + ": the kernel refused PREP_IO_CMDS: " + Libc.describe(-result[0]),
                    -result[0]);
        }
    }

    /** Arms both multishot fetches; the engine's next submit hands them to the kernel. */
    void startFetching() throws UringException {
        for (int i = 0; i < FETCHES; i++) fetch(i);
    }

    private void fetch(int i) throws UringException {
        ProvidedBuffer b = fetch[i];
        b.provide();
        fetchOffset[i] = 0;
        long s = ring.prepUringCmd(CDEV_FIXED, Uapi.IO_FETCH_IO_CMDS, UserData.of(KIND_FETCH, i));
        ring.setFlags(s, (byte) (Op.SQE_FIXED_FILE | Op.SQE_BUFFER_SELECT));
        ring.setRwFlags(s, Op.URING_CMD_MULTISHOT);
        ring.setBufGroup(s, i);
        header(s, 0, (int) (b.buffer().byteSize() / 2), 2);
        inFlight++;
    }

    /**
     * A completion of one of our commands: a fetch's new tags go to {@code request}, in the order the
     * kernel wrote them. {@code stopping}: a fetch that ends is not armed again.
     */
    void onCompletion(int kind, int index, int res, int cqeFlags, IntConsumer request, boolean stopping) {
        if (kind == KIND_FETCH) {
            onFetch(index, res, cqeFlags, request, stopping);
        } else if (kind == KIND_COMMIT) {
            onCommit(index, res);
        } else {
            inFlight--; // a PREP answered after prepare() gave up: cannot happen, counted all the same
        }
    }

    private void onFetch(int i, int res, int cqeFlags, IntConsumer request, boolean stopping) {
        if (res < 0 && res != -Errno.ENOBUFS) {
            // ABORT: the device is going away; anything else ends this fetch for good
            inFlight--;
            if (res != Uapi.IO_RES_ABORT) {
                LOG.warning("queue " + qid + ": FETCH_IO_CMDS failed: " + Libc.describe(-res));
            }
            return;
        }
        if (res > 0) {
            MemorySegment tags = fetch[i].buffer();
            int end = fetchOffset[i] + res;
            for (int o = fetchOffset[i]; o < end; o += 2) {
                int tag = tags.get(JAVA_SHORT, o) & 0xffff;
                if (tag < depth) request.accept(tag);
                else LOG.warning("queue " + qid + ": the kernel fetched tag " + tag + " of " + depth + "; ignored");
            }
            fetchOffset[i] = end;
        }
        if ((cqeFlags & Op.CQE_F_MORE) == 0) { // its buffer is used up (or the kernel ended it): again
            inFlight--;
            if (!stopping) {
                try {
                    fetch(i);
                } catch (UringException e) {
                    throw new IllegalStateException("queue " + qid + ": cannot re-arm a fetch: " + e.getMessage(), e);
                }
            }
        }
    }

    /** A request's answer; it goes to the kernel with the others of this loop turn ({@link #flush}). */
    void commit(int tag, int result) {
        element(current, commitCount[current]++, tag, result);
    }

    /** Sends the answers gathered since the last flush in one COMMIT_IO_CMDS, unless the last one is still out. */
    void flush() {
        int n = commitCount[current];
        if (n == 0 || commitSent[1 - current]) return; // then after that one's completion, next turn
        try {
            command(Uapi.IO_COMMIT_IO_CMDS, KIND_COMMIT, current, commit[current], n);
        } catch (UringException e) {
            throw new IllegalStateException("queue " + qid + ": cannot queue a commit: " + e.getMessage(), e);
        }
        commitSent[current] = true;
        current = 1 - current;
        commitCount[current] = 0;
    }

    /**
     * The kernel takes a commit's answers in order and stops at the first it refuses: it returns the bytes
     * it took, or the error when that was the first. The refused answer is logged and dropped (the kernel
     * does not hold that tag for us: a second try fails the same way); the ones after it go again.
     */
    private void onCommit(int b, int res) {
        inFlight--;
        commitSent[b] = false;
        int sent = commitCount[b];
        int done = res >= 0 ? res / elemBytes : 0;
        if (res < 0) {
            if (res != Uapi.IO_RES_ABORT) {
                LOG.warning("queue " + qid + ": the kernel refused the answer for tag "
                        + ((short) ELEM_TAG.get(commit[b], 0L) & 0xffff) + ": " + Libc.describe(-res));
            }
            done = 1;
        }
        if (done < sent) {
            MemorySegment.copy(commit[b], (long) done * elemBytes, commit[current],
                    (long) commitCount[current] * elemBytes, (long) (sent - done) * elemBytes);
            commitCount[current] += sent - done;
        }
    }

    /** True when the kernel holds none of our commands. */
    boolean drained() {
        return inFlight == 0;
    }

    private void element(int b, int index, int tag, int result) {
        MemorySegment m = commit[b];
        long e = (long) index * elemBytes;
        ELEM_TAG.set(m, e, (short) tag);
        ELEM_BUF_INDEX.set(m, e, (short) (zeroCopy ? tag : 0)); // where the kernel registers its next pages
        ELEM_RESULT.set(m, e, result);
        if (elemBytes == 16) m.set(JAVA_LONG, e + 8, bufferAddress.applyAsLong(tag));
    }

    private void command(int cmdOp, int kind, int b, MemorySegment elements, int n) throws UringException {
        long s = ring.prepUringCmd(CDEV_FIXED, cmdOp, UserData.of(kind, b));
        ring.setFlags(s, Op.SQE_FIXED_FILE);
        ring.setAddr(s, elements.address());
        ring.setLen(s, n * elemBytes);
        header(s, batchFlags, n, elemBytes);
        inFlight++;
    }

    private void header(long s, int flags, int n, int bytes) {
        MemorySegment sq = ring.sqes();
        long c = s + Ring.SQE_CMD;
        BATCH_Q_ID.set(sq, c, (short) qid);
        BATCH_FLAGS.set(sq, c, (short) flags);
        BATCH_NR_ELEM.set(sq, c, (short) n);
        BATCH_ELEM_BYTES.set(sq, c, (byte) bytes);
    }

    /** Releases the buffers; the ring must be closed first (the kernel writes the fetch buffers). */
    @Override
    public void close() {
        for (ProvidedBuffer b : fetch) if (b != null) b.close();
        Libc.munmap(commitMemory);
    }
}
