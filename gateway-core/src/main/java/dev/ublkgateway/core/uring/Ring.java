package dev.ublkgateway.core.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One io_uring instance: set up and torn down by liburing, with SQEs written and CQEs reaped in Java
 * directly over the kernel-shared rings. Not thread-safe: a ring belongs to the thread that drives it.
 *
 * <p>Preparing an SQE returns its byte offset within {@link #sqes()}, so callers can fill extra fields
 * (a uring_cmd payload) without allocating a view object per request.
 */
public final class Ring implements AutoCloseable {
    // struct io_uring (liburing >= 2.2, unchanged since): the sq part holds 8 pointers then sqe_head and
    // sqe_tail; the cq part starts at 104. Only these stable leading fields are read here.
    private static final long RING_STRUCT_SIZE = 512; // generous: liburing's own is 216 bytes
    private static final long SQ_KHEAD = 0, SQ_KTAIL = 8, SQ_KRING_MASK = 16, SQ_KRING_ENTRIES = 24,
            SQ_KFLAGS = 32,
            SQ_ARRAY = 48, SQ_SQES = 56, SQ_SQE_HEAD = 64, SQ_SQE_TAIL = 68;
    private static final long CQ_BASE = 104;
    private static final long CQ_KHEAD = CQ_BASE, CQ_KTAIL = CQ_BASE + 8, CQ_KRING_MASK = CQ_BASE + 16,
            CQ_KRING_ENTRIES = CQ_BASE + 24, CQ_CQES = CQ_BASE + 48;
    // struct io_uring_params: 120 bytes
    private static final long PARAMS_SIZE = 120, P_SQ_ENTRIES = 0, P_CQ_ENTRIES = 4, P_FLAGS = 8,
            P_FEATURES = 20;
    // struct io_uring_sqe field offsets
    public static final long SQE_OPCODE = 0, SQE_FLAGS = 1, SQE_IOPRIO = 2, SQE_FD = 4, SQE_OFF = 8,
            SQE_CMD_OP = 8, SQE_ADDR = 16, SQE_LEN = 24, SQE_RW_FLAGS = 28, SQE_USER_DATA = 32,
            SQE_BUF_INDEX = 40, SQE_CMD = 48;
    private static final long CQE_SIZE = 16;
    private static final int SQ_TASKRUN = 1 << 2; // IORING_SQ_TASKRUN in *sq.kflags
    // Acquire/release access to the kernel-shared head and tail words.
    private static final VarHandle U32 = JAVA_INT.varHandle();

    private final Arena arena;
    private final MemorySegment ring;
    private final MemorySegment sqHead, sqTailK, sqFlags, sqArray, sqes, cqHead, cqTail, cqes;
    private final int sqMask, sqEntries, cqMask, sqeSize, features;
    private int sqTail;      // our next free SQE slot (not yet visible to the kernel)
    private int cqHeadLocal; // mirror of *cq.khead, which only we advance
    private boolean closed;

    private Ring(Arena arena, MemorySegment ring, MemorySegment params, int flags) {
        this.arena = arena;
        this.ring = ring;
        this.sqeSize = (flags & Op.SETUP_SQE128) != 0 ? 128 : 64;
        this.sqEntries = params.get(JAVA_INT, P_SQ_ENTRIES);
        int cqEntries = params.get(JAVA_INT, P_CQ_ENTRIES);
        this.features = params.get(JAVA_INT, P_FEATURES);
        this.sqHead = ptr(SQ_KHEAD, 4);
        this.sqTailK = ptr(SQ_KTAIL, 4);
        this.sqFlags = ptr(SQ_KFLAGS, 4);
        this.sqMask = ptr(SQ_KRING_MASK, 4).get(JAVA_INT, 0);
        this.sqArray = ptr(SQ_ARRAY, 4L * sqEntries);
        this.sqes = ptr(SQ_SQES, (long) sqeSize * sqEntries);
        this.cqHead = ptr(CQ_KHEAD, 4);
        this.cqTail = ptr(CQ_KTAIL, 4);
        this.cqMask = ptr(CQ_KRING_MASK, 4).get(JAVA_INT, 0);
        this.cqes = ptr(CQ_CQES, CQE_SIZE * cqEntries);
        // Guard against a liburing whose struct layout differs from the one assumed above.
        if (ptr(SQ_KRING_ENTRIES, 4).get(JAVA_INT, 0) != sqEntries
                || ptr(CQ_KRING_ENTRIES, 4).get(JAVA_INT, 0) != cqEntries
                || sqMask != sqEntries - 1 || cqMask != cqEntries - 1) {
            throw new IllegalStateException("unsupported liburing struct layout; install liburing2 >= 2.2");
        }
        // Identity SQ index array, so slot i always holds SQE i.
        for (int i = 0; i < sqEntries; i++) sqArray.setAtIndex(JAVA_INT, i, i);
        this.sqTail = ring.get(JAVA_INT, SQ_SQE_TAIL);
        this.cqHeadLocal = cqHead.get(JAVA_INT, 0);
    }

    private MemorySegment ptr(long fieldOffset, long size) {
        return ring.get(ADDRESS, fieldOffset).reinterpret(size);
    }

    /** Creates a ring with {@code entries} SQEs (rounded up to a power of two by the kernel). */
    public static Ring create(int entries, int flags) throws UringException {
        return create(entries, flags, 0);
    }

    /** As {@link #create(int, int)}, with an explicit CQ size when {@code cqEntries > 0}. */
    public static Ring create(int entries, int flags, int cqEntries) throws UringException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment ring = arena.allocate(RING_STRUCT_SIZE, 64);
            MemorySegment params = arena.allocate(PARAMS_SIZE, 8);
            int f = flags | (cqEntries > 0 ? Op.SETUP_CQSIZE : 0);
            params.set(JAVA_INT, P_FLAGS, f);
            if (cqEntries > 0) params.set(JAVA_INT, P_CQ_ENTRIES, cqEntries);
            int r = (int) LibUring.QUEUE_INIT_PARAMS.invokeExact(entries, ring, params);
            if (r < 0) throw new UringException("io_uring_queue_init_params(" + entries + ")", -r);
            return new Ring(arena, ring, params, f);
        } catch (UringException | RuntimeException e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new IllegalStateException(t);
        }
    }

    /** The SQE array; offsets returned by the prep methods index into it. */
    public MemorySegment sqes() {
        return sqes;
    }

    public int sqEntries() {
        return sqEntries;
    }

    public int features() {
        return features;
    }

    /** SQEs prepared and not yet submitted. */
    public int pending() {
        return sqTail - ring.get(JAVA_INT, SQ_SQE_HEAD);
    }

    /** Free SQE slots (the kernel consumes submitted ones at submit time). */
    public int sqSpace() {
        return sqEntries - (sqTail - sqHead.get(JAVA_INT, 0));
    }

    /**
     * Reserves the next SQE, zeroes it and returns its offset in {@link #sqes()}. When the SQ is full the
     * prepared SQEs are submitted first, so callers never see "ring full".
     */
    public long nextSqe() throws UringException {
        if (sqTail - (int) U32.getAcquire(sqHead, 0L) >= sqEntries) {
            submit();
            if (sqTail - (int) U32.getAcquire(sqHead, 0L) >= sqEntries) {
                throw new UringException("submission queue full", 16 /* EBUSY */);
            }
        }
        long off = (long) (sqTail & sqMask) * sqeSize;
        for (long i = 0; i < sqeSize; i += 8) sqes.set(JAVA_LONG, off + i, 0L); // no slice object per SQE
        sqTail++;
        return off;
    }

    private long prep(byte opcode, int fd, long addr, int len, long offset, long userData) throws UringException {
        long s = nextSqe();
        sqes.set(JAVA_BYTE, s + SQE_OPCODE, opcode);
        sqes.set(JAVA_INT, s + SQE_FD, fd);
        sqes.set(JAVA_LONG, s + SQE_OFF, offset);
        sqes.set(JAVA_LONG, s + SQE_ADDR, addr);
        sqes.set(JAVA_INT, s + SQE_LEN, len);
        sqes.set(JAVA_LONG, s + SQE_USER_DATA, userData);
        return s;
    }

    public long prepNop(long userData) throws UringException {
        return prep(Op.NOP, -1, 0, 0, 0, userData);
    }

    /** READ or WRITE of {@code len} bytes at {@code addr} to/from file offset {@code offset}. */
    public long prepReadWrite(byte opcode, int fd, long addr, int len, long offset, long userData)
            throws UringException {
        return prep(opcode, fd, addr, len, offset, userData);
    }

    /** READ_FIXED / WRITE_FIXED into a registered buffer. */
    public long prepFixed(byte opcode, int fd, long addr, int len, long offset, int bufIndex, long userData)
            throws UringException {
        long s = prep(opcode, fd, addr, len, offset, userData);
        sqes.set(JAVA_SHORT, s + SQE_BUF_INDEX, (short) bufIndex);
        return s;
    }

    public long prepFsync(int fd, int fsyncFlags, long userData) throws UringException {
        long s = prep(Op.FSYNC, fd, 0, 0, 0, userData);
        sqes.set(JAVA_INT, s + SQE_RW_FLAGS, fsyncFlags);
        return s;
    }

    /** fallocate: the kernel takes mode in len and length in addr. */
    public long prepFallocate(int fd, int mode, long offset, long length, long userData) throws UringException {
        return prep(Op.FALLOCATE, fd, length, mode, offset, userData);
    }

    public long prepPollAdd(int fd, int events, long userData) throws UringException {
        long s = prep(Op.POLL_ADD, fd, 0, 0, 0, userData);
        sqes.set(JAVA_INT, s + SQE_RW_FLAGS, events);
        return s;
    }

    /** URING_CMD: the caller writes its payload at {@code returned offset + SQE_CMD}. */
    public long prepUringCmd(int fd, int cmdOp, long userData) throws UringException {
        long s = prep(Op.URING_CMD, fd, 0, 0, 0, userData);
        sqes.set(JAVA_INT, s + SQE_CMD_OP, cmdOp);
        return s;
    }

    /** Sets IOSQE_* flags on a prepared SQE. */
    public void setFlags(long sqe, byte flags) {
        sqes.set(JAVA_BYTE, sqe + SQE_FLAGS, flags);
    }

    public void setRwFlags(long sqe, int rwFlags) {
        sqes.set(JAVA_INT, sqe + SQE_RW_FLAGS, rwFlags);
    }

    /** Publishes prepared SQEs to liburing, which makes them visible to the kernel on submit. */
    private void publish() {
        ring.set(JAVA_INT, SQ_SQE_TAIL, sqTail);
    }

    /** Submits prepared SQEs without waiting; returns how many the kernel took. */
    public int submit() throws UringException {
        publish();
        int r;
        try {
            r = (int) LibUring.SUBMIT.invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) throw new UringException("io_uring_submit", -r);
        return r;
    }

    /**
     * Submits prepared SQEs and waits until at least {@code waitNr} completions are ready.
     * Interrupted waits (EINTR) return 0; the caller reaps and loops.
     */
    public int submitAndWait(int waitNr) throws UringException {
        publish();
        int r;
        try {
            r = (int) LibUring.SUBMIT_AND_WAIT.invokeExact(ring, waitNr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r == -4 /* EINTR */ || r == -16 /* EBUSY: CQ backlog, reap first */ || r == -11 /* EAGAIN */) return 0;
        if (r < 0) throw new UringException("io_uring_submit_and_wait", -r);
        return r;
    }

    /**
     * True when the kernel holds completion work for this ring that runs at the next wait (rings set up
     * with {@link Op#SETUP_TASKRUN_FLAG}): a completion is on its way, checked without a system call.
     */
    public boolean taskWorkPending() {
        return ((int) U32.getAcquire(sqFlags, 0L) & SQ_TASKRUN) != 0;
    }

    /** Completions ready to reap. */
    public int ready() {
        return (int) U32.getAcquire(cqTail, 0L) - cqHeadLocal;
    }

    /** Hands every ready completion to {@code handler}, then releases their slots; returns the count. */
    public int reap(CompletionHandler handler) {
        int tail = (int) U32.getAcquire(cqTail, 0L);
        int head = cqHeadLocal;
        int n = 0;
        while (head != tail) {
            long c = (long) (head & cqMask) * CQE_SIZE;
            long ud = cqes.get(JAVA_LONG, c);
            int res = cqes.get(JAVA_INT, c + 8);
            int flags = cqes.get(JAVA_INT, c + 12);
            head++;
            n++;
            // Release the slot before the callback so a handler that submits cannot overflow the CQ.
            cqHeadLocal = head;
            U32.setRelease(cqHead, 0L, head);
            handler.onCompletion(ud, res, flags);
            if (head == tail) tail = (int) U32.getAcquire(cqTail, 0L);
        }
        return n;
    }

    /** Registers files; SQEs flagged {@link Op#SQE_FIXED_FILE} then name them by index. */
    public void registerFiles(int... fds) throws UringException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arr = a.allocateFrom(JAVA_INT, fds);
            int r = (int) LibUring.REGISTER_FILES.invokeExact(ring, arr, fds.length);
            UringException.check(r, "io_uring_register_files");
        } catch (UringException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Registers buffers for READ_FIXED / WRITE_FIXED; buffer i gets index i. */
    public void registerBuffers(MemorySegment... buffers) throws UringException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = a.allocate(16L * buffers.length, 8);
            for (int i = 0; i < buffers.length; i++) {
                iov.set(JAVA_LONG, 16L * i, buffers[i].address());
                iov.set(JAVA_LONG, 16L * i + 8, buffers[i].byteSize());
            }
            int r = (int) LibUring.REGISTER_BUFFERS.invokeExact(ring, iov, buffers.length);
            UringException.check(r, "io_uring_register_buffers");
        } catch (UringException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Tears the ring down; the kernel cancels or completes whatever is still in flight. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            LibUring.QUEUE_EXIT.invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            arena.close();
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
