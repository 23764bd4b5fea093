package dev.ublkgateway.core.uring;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.MsgHdr;

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
    // Field offsets from the struct layouts (Layouts), as constants: the hot path adds them to an SQE's or
    // CQE's offset without a view object per access.
    private static final long SQ_KHEAD = Layouts.sq("khead"), SQ_KTAIL = Layouts.sq("ktail"),
            SQ_KRING_MASK = Layouts.sq("kring_mask"), SQ_KRING_ENTRIES = Layouts.sq("kring_entries"),
            SQ_KFLAGS = Layouts.sq("kflags"), SQ_ARRAY = Layouts.sq("array"), SQ_SQES = Layouts.sq("sqes"),
            SQ_SQE_HEAD = Layouts.sq("sqe_head"), SQ_SQE_TAIL = Layouts.sq("sqe_tail");
    private static final long CQ_KHEAD = Layouts.cq("khead"), CQ_KTAIL = Layouts.cq("ktail"),
            CQ_KRING_MASK = Layouts.cq("kring_mask"), CQ_KRING_ENTRIES = Layouts.cq("kring_entries"),
            CQ_CQES = Layouts.cq("cqes");
    private static final long P_SQ_ENTRIES = Layouts.params("sq_entries"), P_CQ_ENTRIES = Layouts.params("cq_entries"),
            P_FLAGS = Layouts.params("flags"), P_FEATURES = Layouts.params("features");
    public static final long SQE_OPCODE = Layouts.sqe("opcode"), SQE_FLAGS = Layouts.sqe("flags"),
            SQE_IOPRIO = Layouts.sqe("ioprio"), SQE_FD = Layouts.sqe("fd"), SQE_OFF = Layouts.sqe("off"),
            SQE_CMD_OP = Layouts.sqe("off"), SQE_ADDR = Layouts.sqe("addr"), SQE_LEN = Layouts.sqe("len"),
            SQE_RW_FLAGS = Layouts.sqe("rw_flags"), SQE_USER_DATA = Layouts.sqe("user_data"),
            SQE_BUF_INDEX = Layouts.sqe("buf_index"), SQE_CMD = Layouts.sqe("addr3");
    private static final long CQE_SIZE = Layouts.CQE.byteSize(), CQE_USER_DATA = Layouts.cqe("user_data"),
            CQE_RES = Layouts.cqe("res"), CQE_FLAGS = Layouts.cqe("flags");
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
        this.sqeSize = (int) Layouts.SQE.byteSize() * ((flags & Op.SETUP_SQE128) != 0 ? 2 : 1);
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
            MemorySegment ring = arena.allocate(Layouts.IO_URING_ALLOCATED, 64);
            MemorySegment params = arena.allocate(Layouts.PARAMS);
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
                throw new UringException("submission queue full", Errno.EBUSY);
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
        if (r == -Errno.EINTR || r == -Errno.EBUSY /* CQ backlog: reap first */ || r == -Errno.EAGAIN) return 0;
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
            long ud = cqes.get(JAVA_LONG, c + CQE_USER_DATA);
            int res = cqes.get(JAVA_INT, c + CQE_RES);
            int flags = cqes.get(JAVA_INT, c + CQE_FLAGS);
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
            MemorySegment iov = a.allocate(MsgHdr.IOVEC, buffers.length);
            for (int i = 0; i < buffers.length; i++) {
                long o = MsgHdr.IOVEC.byteSize() * i;
                MsgHdr.IOV_BASE.set(iov, o, buffers[i].address());
                MsgHdr.IOV_LEN.set(iov, o, buffers[i].byteSize());
            }
            int r = (int) LibUring.REGISTER_BUFFERS.invokeExact(ring, iov, buffers.length);
            UringException.check(r, "io_uring_register_buffers");
        } catch (UringException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * An empty buffer table of {@code count} slots (Linux >= 5.19): the kernel fills slots itself, e.g. a
     * ublk request's pages registered for READ_FIXED / WRITE_FIXED by index.
     */
    public void registerSparseBuffers(int count) throws UringException {
        try {
            int r = (int) LibUring.REGISTER_BUFFERS_SPARSE.invokeExact(ring, count);
            UringException.check(r, "io_uring_register_buffers_sparse");
        } catch (UringException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Registers a provided-buffer ring (struct io_uring_buf_reg, Linux >= 5.19; {@link Op#PBUF_RING_INC}
     * >= 6.12): {@code entries} slots of 16 bytes at {@code ringMemory} (page-aligned), group {@code group}.
     */
    public void registerBufRing(MemorySegment ringMemory, int entries, int group, int ringFlags) throws UringException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(40, 8); // ring_addr u64, ring_entries u32, bgid u16, flags u16, resv[3]
            reg.set(JAVA_LONG, 0, ringMemory.address());
            reg.set(JAVA_INT, 8, entries);
            reg.set(JAVA_SHORT, 12, (short) group);
            reg.set(JAVA_SHORT, 14, (short) ringFlags);
            int r = (int) LibUring.REGISTER_BUF_RING.invokeExact(ring, reg, 0);
            UringException.check(r, "io_uring_register_buf_ring");
        } catch (UringException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sets the SQE's len field. */
    public void setLen(long sqe, int len) {
        sqes.set(JAVA_INT, sqe + SQE_LEN, len);
    }

    /** Sets the provided-buffer group an SQE flagged {@link Op#SQE_BUFFER_SELECT} takes its buffer from. */
    public void setBufGroup(long sqe, int group) {
        sqes.set(JAVA_SHORT, sqe + SQE_BUF_INDEX, (short) group);
    }

    /** Sets the SQE's addr field (a URING_CMD's side channel, e.g. ublk's auto buffer registration). */
    public void setAddr(long sqe, long addr) {
        sqes.set(JAVA_LONG, sqe + SQE_ADDR, addr);
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
