package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.ChainQueue;
import dev.ublkgateway.core.log.LogText;
import dev.ublkgateway.core.frontend.ublk.RingQueueContext;
import dev.ublkgateway.core.frontend.ublk.RingTargetQueue;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.Sockets;
import dev.ublkgateway.core.uring.CompletionHandler;
import dev.ublkgateway.core.uring.Mailbox;
import dev.ublkgateway.core.uring.Op;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.logging.Level;
import java.util.logging.Logger;

import static dev.ublkgateway.core.frontend.nbd.Handshake.BE_INT;
import static dev.ublkgateway.core.frontend.nbd.Handshake.BE_LONG;
import static dev.ublkgateway.core.frontend.nbd.Handshake.BE_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One NBD client connection, served by one platform thread that owns an io_uring: after the handshake
 * every socket receive, reply send and target I/O (the file target's) goes through that ring, so the
 * connection is a queue of its device just as a ublk queue is.
 *
 * <p>Requests are read into a receive buffer and parsed in batches; up to {@code depth} are in flight
 * at once and each is answered as soon as it completes, in any order. Replies that are ready together
 * leave in one gathered sendmsg. When every slot is busy the connection stops reading, which pushes
 * back on the client through TCP.
 */
final class NbdConnection implements RingQueueContext {
    private static final Logger LOG = Logger.getLogger(NbdConnection.class.getName());
    private static final int KIND_SHIFT = 56;
    private static final long KIND_RECV = 1, KIND_PAYLOAD = 2, KIND_SEND = 3, KIND_WAKE = 4, KIND_TARGET = 5;
    private static final byte OP_SENDMSG = 9, OP_RECV = 27;
    private static final int RECV_BUFFER = 64 * 1024;
    private static final int MAX_IOV = 1024;
    private static final int HEADER_SLOT = 32;
    private static final int BULK_WRITE = 32 * 1024;
    /** A WRITE longer than this (beyond any max block size) is a protocol violation: the connection closes. */
    private static final long MAX_DISCARDABLE_WRITE = 64L << 20;
    private static final int HANDSHAKE = 0, ESTABLISHED = 1, EVICTED = 2, CLOSED = 3;
    /**
     * Most descriptors in one BLOCK_STATUS reply: the target answers on this thread, so one request's
     * work stays small; a client asks again from where the reply ended.
     */
    private static final int MAX_EXTENTS = 1024;

    private final NbdServer server;
    private final int id, fd;
    private final Peer peer;
    /** When it was accepted ({@link System#nanoTime()}): the handshake's deadline counts from here. */
    final long acceptedNanos;
    private final Thread thread;
    private volatile boolean stopRequested;
    /** Changed under this object's lock, so the socket is never shut down after it was closed (and its number reused). */
    private volatile int phase = HANDSHAKE;

    private Export export;
    private boolean structured, allocation;
    private final ExtentReply extents = new ExtentReply();
    private int depth, maxIo;
    private Ring ring;
    private MemorySegment recvBuf, buffers, headers, iov, msghdr;
    private int rStart, rEnd;
    private boolean recvInFlight, sendInFlight, closing, broken;
    private Slot[] slots;
    private int[] freeTags;
    private int freeCount;
    private int payloadTag = -1, payloadDone;
    private long discardRemaining;
    private boolean bulkWrites; // the last request was a WRITE of at least BULK_WRITE bytes
    private int[] replyQueue;
    private int rqHead, replyCount;
    private int[] sentTags;
    private int sentCount, iovCount, iovFirst;
    private int inFlight, targetInFlight;
    private volatile Mailbox mailbox; // results and resumes from other threads
    private final Mailbox.Receiver fromOtherThreads = new Mailbox.Receiver() {
        @Override
        public void completed(int tag, int result) {
            NbdConnection.this.completed(tag, result);
        }

        @Override
        public void resumed(int tag) {
            resume(tag);
        }
    };
    private TargetQueue target;
    private ChainQueue chain;
    private RingTargetQueue ringTarget;
    private final CompletionHandler onCompletion = this::onCompletion;

    NbdConnection(NbdServer server, int id, int fd, Peer peer, long acceptedNanos) {
        this.server = server;
        this.id = id;
        this.fd = fd;
        this.peer = peer;
        this.acceptedNanos = acceptedNanos;
        this.thread = Thread.ofPlatform().name("nbd-conn-" + id).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    int id() {
        return id;
    }

    Peer peer() {
        return peer;
    }

    /** True until the client has chosen an export: until then the server may evict it for a newcomer. */
    boolean inHandshake() {
        return phase == HANDSHAKE;
    }

    boolean evicted() {
        return phase == EVICTED;
    }

    /** Closes the connection if it is still in the handshake (its blocked receive returns at once); false if not. */
    synchronized boolean evict() {
        if (phase != HANDSHAKE) return false;
        phase = EVICTED;
        Sockets.shutdown(fd);
        return true;
    }

    /** Leaves the handshake for good (before the client learns so); false when it was evicted meanwhile. */
    private synchronized boolean establish() {
        if (phase != HANDSHAKE) return false;
        phase = ESTABLISHED;
        return true;
    }

    /** Stops reading new requests; in-flight ones finish and are answered, then the connection closes. */
    void stop() {
        stopRequested = true;
        synchronized (this) {
            if (phase != CLOSED) Sockets.shutdownRead(fd);
        }
    }

    boolean join(long millis) throws InterruptedException {
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    @Override public int queueId() { return export == null ? 0 : id % export.queues(); }
    @Override public int depth() { return depth; }
    @Override public int maxIoBytes() { return maxIo; }
    @Override public Ring ring() { return ring; }

    @Override
    public long targetUserData(int tag, int cookie) {
        targetInFlight++;
        return KIND_TARGET << KIND_SHIFT | (long) (cookie & 0xffffffffL) << 16 | tag;
    }

    private void run() {
        try {
            Handshake.Result h;
            try (Arena ha = Arena.ofConfined()) {
                DeadlineSocket io = new DeadlineSocket(fd, acceptedNanos + server.handshakeMillis() * 1_000_000, ha);
                h = new Handshake(io, ha, server::lookup, server.exports(), this::establish).run();
            }
            if (h == null || stopRequested) return;
            Sockets.setTimeout(fd, 0);
            export = h.export();
            structured = h.structured();
            allocation = h.allocation();
            LOG.fine("nbd connection " + id + " from " + peer + ": export " + export.name()
                    + (structured ? " (structured replies" + (allocation ? ", base:allocation)" : ")") : ""));
            // Memory the kernel may still write into while the ring shuts down (an armed receive or
            // wake-up read) is freed by the garbage collector, never before the ring is gone.
            setUp(Arena.ofAuto());
            loop();
        } catch (DeadlineSocket.Expired e) {
            server.clientLog().log(LOG, Level.INFO, "nbd connection " + id + " from " + peer
                    + ": did not finish the handshake in " + server.handshakeTimeText() + "; closed");
        } catch (Throwable t) {
            String m = LogText.oneLine(message(t));
            if (stopRequested || phase == EVICTED) LOG.fine("nbd connection " + id + " from " + peer + ": " + m);
            else server.clientLog().log(LOG, Level.INFO, "nbd connection " + id + " from " + peer + " ended: " + m);
        } finally {
            tearDown();
            synchronized (this) {
                phase = CLOSED;
                Libc.close(fd);
            }
            server.ended(this);
        }
    }

    private void setUp(Arena arena) throws Exception {
        depth = export.depth();
        maxIo = export.maxIoBytes();
        // One thread submits and reaps, so completion work can wait until it asks for events
        // (DEFER_TASKRUN, Linux 6.1); older kernels get the cooperative mode.
        int entries = Integer.highestOneBit(depth + 8) << 1;
        try {
            ring = Ring.create(entries, Op.SETUP_SINGLE_ISSUER | Op.SETUP_DEFER_TASKRUN);
        } catch (UringException e) {
            ring = Ring.create(entries, Op.SETUP_COOP_TASKRUN);
        }
        mailbox = new Mailbox("nbd connection " + id, depth);
        recvBuf = arena.allocate(RECV_BUFFER, 4096);
        headers = arena.allocate((long) HEADER_SLOT * depth, 8);
        iov = arena.allocate(16L * MAX_IOV, 8);
        msghdr = arena.allocate(56, 8);
        buffers = server.takeBuffers((long) depth * maxIo);
        slots = new Slot[depth];
        freeTags = new int[depth];
        replyQueue = new int[depth];
        sentTags = new int[depth];
        for (int t = 0; t < depth; t++) {
            slots[t] = new Slot(this, t, buffers.asSlice((long) t * maxIo, maxIo));
            freeTags[t] = depth - 1 - t;
        }
        freeCount = depth;
        target = export.target().openQueue(this);
        chain = target instanceof ChainQueue c ? c : null;
        TargetQueue innermost = chain != null ? chain.target() : target;
        ringTarget = innermost instanceof RingTargetQueue r ? r : null;
    }

    private void loop() throws UringException {
        armWake();
        postRecv();
        while (true) {
            if (closing && inFlight == 0 && targetInFlight == 0 && !sendInFlight) break;
            ring.submitAndWait(1);
            ring.reap(onCompletion);
            if (!closing) {
                parse();
                postRecv();
            }
            // after parsing: requests a target answered synchronously have replies but no CQE to wake us
            if (!sendInFlight && replyCount > 0) startSend();
        }
    }

    private void onCompletion(long userData, int res, int cqeFlags) {
        long kind = userData >>> KIND_SHIFT;
        if (kind == KIND_RECV) {
            recvInFlight = false;
            if (res <= 0) {
                endOfInput(res);
                return;
            }
            rEnd += res;
            parse();
        } else if (kind == KIND_PAYLOAD) {
            recvInFlight = false;
            if (res <= 0) {
                endOfInput(res);
                return;
            }
            payloadDone += res;
            Slot s = slots[payloadTag];
            if (payloadDone == s.length) {
                payloadTag = -1;
                dispatch(s);
            }
        } else if (kind == KIND_SEND) {
            sendInFlight = false;
            onSent(res);
        } else if (kind == KIND_WAKE) {
            mailbox.drain(fromOtherThreads);
            armWake();
        } else if (kind == KIND_TARGET) {
            targetInFlight--;
            ringTarget.onRingCompletion((int) (userData & 0xffff), (int) (userData >>> 16), res);
        }
    }

    /** The client closed (or reset) the connection, possibly in the middle of a request. */
    private void endOfInput(int res) {
        if (res < 0 && !stopRequested) LOG.fine("nbd connection " + id + ": receive failed: errno " + -res);
        if (payloadTag >= 0) { // half a WRITE payload: the request is dropped, never executed
            release(payloadTag);
            payloadTag = -1;
        }
        closing = true;
    }

    private void parse() {
        while (!closing) {
            int avail = rEnd - rStart;
            if (payloadTag >= 0) {
                if (avail == 0) return;
                Slot s = slots[payloadTag];
                int n = Math.min(s.length - payloadDone, avail);
                MemorySegment.copy(recvBuf, rStart, s.data(), payloadDone, n);
                rStart += n;
                payloadDone += n;
                if (payloadDone < s.length) return;
                payloadTag = -1;
                dispatch(s);
                continue;
            }
            if (discardRemaining > 0) {
                int n = (int) Math.min(discardRemaining, avail);
                rStart += n;
                discardRemaining -= n;
                if (discardRemaining > 0) return;
                continue;
            }
            if (avail < Nbd.REQUEST_SIZE || freeCount == 0) return;
            int p = rStart;
            rStart += Nbd.REQUEST_SIZE;
            if (recvBuf.get(BE_INT, p) != Nbd.REQUEST_MAGIC) {
                server.clientLog().log(LOG, Level.WARNING, "nbd connection " + id + " from " + peer
                        + ": bad request magic; closing the connection");
                closing = true;
                return;
            }
            request(Short.toUnsignedInt(recvBuf.get(BE_SHORT, p + 4)), Short.toUnsignedInt(recvBuf.get(BE_SHORT, p + 6)),
                    recvBuf.get(BE_LONG, p + 8), recvBuf.get(BE_LONG, p + 16),
                    Integer.toUnsignedLong(recvBuf.get(BE_INT, p + 24)));
        }
    }

    private void request(int flags, int type, long cookie, long offset, long length) {
        if (type == Nbd.CMD_DISC) {
            closing = true; // in-flight requests still finish and are answered
            return;
        }
        int tag = freeTags[--freeCount];
        Slot s = slots[tag];
        inFlight++;
        if (type == Nbd.CMD_BLOCK_STATUS) {
            blockStatus(s, flags, cookie, offset, length);
            return;
        }
        int op, allowed, err = 0;
        switch (type) {
            case Nbd.CMD_READ -> { op = BlockOp.READ; allowed = Nbd.CMD_FLAG_DF; }
            case Nbd.CMD_WRITE -> { op = BlockOp.WRITE; allowed = Nbd.CMD_FLAG_FUA; }
            case Nbd.CMD_FLUSH -> { op = BlockOp.FLUSH; allowed = 0; }
            case Nbd.CMD_TRIM -> { op = BlockOp.DISCARD; allowed = Nbd.CMD_FLAG_FUA; }
            case Nbd.CMD_WRITE_ZEROES -> { op = BlockOp.WRITE_ZEROES; allowed = Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE; }
            default -> { op = -1; allowed = 0; err = Nbd.EINVAL; }
        }
        boolean data = op == BlockOp.READ || op == BlockOp.WRITE;
        boolean writes = op == BlockOp.WRITE || op == BlockOp.DISCARD || op == BlockOp.WRITE_ZEROES;
        if (err == 0) {
            if ((flags & ~allowed) != 0) err = Nbd.EINVAL;
            else if (writes && export.readOnly()) err = Nbd.EPERM;
            // offset + length could overflow: an offset near 2^63 would pass and reach the target
            else if (op != BlockOp.FLUSH && (offset < 0 || offset > export.sizeBytes() - length)) {
                err = writes ? Nbd.ENOSPC : Nbd.EINVAL;
            } else if (op != BlockOp.FLUSH && ((offset | length) & (export.blockSize() - 1)) != 0) err = Nbd.EINVAL;
            else if (data && length > maxIo) err = structured ? Nbd.EOVERFLOW : Nbd.EINVAL;
            else if (!data && length > Integer.MAX_VALUE) err = Nbd.EINVAL;
            else if ((op == BlockOp.DISCARD || op == BlockOp.WRITE_ZEROES) && !export.target().supportsDiscard()) {
                err = Nbd.EINVAL;
            }
        }
        int bflags = 0;
        if ((flags & Nbd.CMD_FLAG_FUA) != 0) bflags |= BlockOp.FLAG_FUA;
        if (op == BlockOp.WRITE_ZEROES && (flags & Nbd.CMD_FLAG_NO_HOLE) != 0) bflags |= BlockOp.FLAG_NOUNMAP;
        if (err != 0) {
            s.set(type, cookie, op, bflags, offset, 0, 0);
            if (type == Nbd.CMD_WRITE) {
                if (length > MAX_DISCARDABLE_WRITE) {
                    server.clientLog().log(LOG, Level.WARNING, "nbd connection " + id + " from " + peer + ": WRITE of "
                            + length + " bytes; closing the connection");
                    release(tag);
                    closing = true;
                    return;
                }
                discardRemaining = length; // its payload follows and is skipped
            }
            finish(s, -err);
            return;
        }
        int len = (int) length;
        bulkWrites = op == BlockOp.WRITE && len >= BULK_WRITE;
        s.set(type, cookie, op, bflags, op == BlockOp.FLUSH ? 0 : offset, op == BlockOp.FLUSH ? 0 : len, data ? len : 0);
        if (data && len == 0) {
            finish(s, 0);
        } else if (op == BlockOp.WRITE) {
            payloadTag = tag;
            payloadDone = 0;
        } else {
            dispatch(s);
        }
    }

    /**
     * NBD_CMD_BLOCK_STATUS for base:allocation, answered at once on this thread: targets answer it
     * from local metadata ({@link dev.ublkgateway.api.Target#extents}). The descriptors go into the
     * slot's buffer, which is free for them since the command moves no data.
     */
    private void blockStatus(Slot s, int flags, long cookie, long offset, long length) {
        s.set(Nbd.CMD_BLOCK_STATUS, cookie, -1, 0, offset, 0, 0);
        s.statusBytes = 0;
        if (!allocation || (flags & ~Nbd.CMD_FLAG_REQ_ONE) != 0 || length == 0
                || offset < 0 || offset > export.sizeBytes() - length || ((offset | length) & (export.blockSize() - 1)) != 0) {
            finish(s, -Nbd.EINVAL);
            return;
        }
        int max = (flags & Nbd.CMD_FLAG_REQ_ONE) != 0 ? 1 : Math.min(MAX_EXTENTS, maxIo / 8);
        extents.start(s.whole(), max, export.blockSize(), length);
        int r;
        try {
            r = export.target().extents(offset, length, extents);
        } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
            server.failureLog().log(LOG, Level.SEVERE, "nbd " + export.name() + ": target failed on BLOCK_STATUS: " + message(e), e);
            r = -Nbd.EIO;
        }
        if (r < 0) {
            finish(s, r);
            return;
        }
        s.statusBytes = extents.finish(length);
        finish(s, 0);
    }

    private void dispatch(Slot s) {
        int r;
        try {
            r = target.submit(s);
        } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
            // a failing stage or target fails this request, not the connection
            server.failureLog().log(LOG, Level.SEVERE, "nbd " + export.name() + ": target failed on " + BlockOp.name(s.op) + ": " + message(e), e);
            r = -Nbd.EIO;
        }
        if (r == TargetQueue.PENDING) {
            s.pending = true;
            return;
        }
        finish(s, r);
    }

    /** Completion from any thread; from another one it is handed over through the mailbox. */
    void completeLater(int tag, int result) {
        if (Thread.currentThread() == thread) {
            completed(tag, result);
            return;
        }
        mailbox.complete(tag, result);
    }

    /** A stage passes on a request it held; always through the mailbox, so no stage is re-entered. */
    void resumeLater(int tag) {
        mailbox.resume(tag);
    }

    private void completed(int tag, int result) {
        Slot s = slots[tag];
        s.pending = false;
        if (chain != null) {
            try {
                result = chain.completed(s, result);
            } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
                server.failureLog().log(LOG, Level.SEVERE, "nbd " + export.name() + ": stage failed on completion: " + message(e), e);
                result = -Nbd.EIO;
            }
        }
        finish(s, result);
    }

    /** Passes on a request a stage held; answers it when it finishes at once. */
    private void resume(int tag) {
        Slot s = slots[tag];
        if (chain == null || !s.pending) {
            server.failureLog().log(LOG, Level.SEVERE, "nbd " + export.name() + ": resume of a request no stage holds (tag " + tag + "); ignored");
            return;
        }
        int r;
        try {
            r = chain.resume(s);
        } catch (RuntimeException | InternalError | LinkageError | StackOverflowError e) {
            server.failureLog().log(LOG, Level.SEVERE, "nbd " + export.name() + ": stage failed on resume: " + message(e), e);
            r = -Nbd.EIO;
        }
        if (r == TargetQueue.PENDING) return;
        s.pending = false;
        finish(s, r);
    }

    private void finish(Slot s, int result) {
        s.result = result;
        if (broken) {
            release(s.tag());
            return;
        }
        int at = rqHead + replyCount;
        if (at >= depth) at -= depth;
        replyQueue[at] = s.tag();
        replyCount++;
    }

    private void release(int tag) {
        freeTags[freeCount++] = tag;
        inFlight--;
    }

    private void postRecv() {
        if (recvInFlight || closing) return;
        try {
            if (payloadTag >= 0 && rStart == rEnd) {
                Slot s = slots[payloadTag];
                rStart = rEnd = 0;
                long sqe = ring.prepReadWrite(OP_RECV, fd, s.data().address() + payloadDone, s.length - payloadDone, 0,
                        KIND_PAYLOAD << KIND_SHIFT);
                ring.setRwFlags(sqe, Sockets.MSG_WAITALL); // the rest of the payload in one completion
                recvInFlight = true;
                return;
            }
            if (payloadTag < 0 && discardRemaining == 0 && freeCount == 0) return; // resumed when a slot frees
            if (rStart == rEnd) {
                rStart = rEnd = 0;
            } else if (rStart > 0) {
                MemorySegment.copy(recvBuf, rStart, recvBuf, 0, rEnd - rStart);
                rEnd -= rStart;
                rStart = 0;
            }
            if (rEnd == RECV_BUFFER) return;
            // After a large WRITE the next header most likely starts another: read just the header, so
            // that its payload goes straight into the slot buffer instead of through this one.
            int want = bulkWrites && rEnd < Nbd.REQUEST_SIZE ? Nbd.REQUEST_SIZE - rEnd : RECV_BUFFER - rEnd;
            ring.prepReadWrite(OP_RECV, fd, recvBuf.address() + rEnd, want, 0, KIND_RECV << KIND_SHIFT);
            recvInFlight = true;
        } catch (UringException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends every ready reply in one gathered sendmsg. */
    private void startSend() {
        iovCount = 0;
        iovFirst = 0;
        sentCount = 0;
        while (replyCount > 0 && iovCount + 2 <= MAX_IOV) {
            int tag = replyQueue[rqHead];
            rqHead = rqHead + 1 == depth ? 0 : rqHead + 1;
            replyCount--;
            Slot s = slots[tag];
            long h = (long) tag * HEADER_SLOT;
            boolean ok = s.result >= 0;
            boolean read = s.command == Nbd.CMD_READ;
            boolean status = s.command == Nbd.CMD_BLOCK_STATUS;
            int dataLen = ok && read ? s.length : 0;
            int headerLen;
            if (structured && (read || status)) {
                headers.set(BE_INT, h, Nbd.STRUCTURED_REPLY_MAGIC);
                headers.set(BE_SHORT, h + 4, (short) Nbd.REPLY_FLAG_DONE);
                headers.set(BE_LONG, h + 8, s.cookie);
                if (!ok) {
                    headers.set(BE_SHORT, h + 6, (short) Nbd.REPLY_TYPE_ERROR);
                    headers.set(BE_INT, h + 16, 6);
                    headers.set(BE_INT, h + 20, Nbd.wireError(s.result));
                    headers.set(BE_SHORT, h + 24, (short) 0);
                    headerLen = 26;
                } else if (status) {
                    headers.set(BE_SHORT, h + 6, (short) Nbd.REPLY_TYPE_BLOCK_STATUS);
                    headers.set(BE_INT, h + 16, 4 + s.statusBytes);
                    headers.set(BE_INT, h + 20, Nbd.CONTEXT_ALLOCATION_ID);
                    headerLen = 24;
                } else if (dataLen == 0) {
                    headers.set(BE_SHORT, h + 6, (short) Nbd.REPLY_TYPE_NONE);
                    headers.set(BE_INT, h + 16, 0);
                    headerLen = 20;
                } else {
                    headers.set(BE_SHORT, h + 6, (short) Nbd.REPLY_TYPE_OFFSET_DATA);
                    headers.set(BE_INT, h + 16, 8 + dataLen);
                    headers.set(BE_LONG, h + 20, s.offset);
                    headerLen = 28;
                }
            } else {
                headers.set(BE_INT, h, Nbd.SIMPLE_REPLY_MAGIC);
                headers.set(BE_INT, h + 4, ok ? 0 : Nbd.wireError(s.result));
                headers.set(BE_LONG, h + 8, s.cookie);
                headerLen = 16;
            }
            addIov(headers.address() + h, headerLen);
            if (dataLen > 0) addIov(s.data().address(), dataLen);
            if (ok && status) addIov(s.whole().address(), s.statusBytes);
            sentTags[sentCount++] = tag;
        }
        submitSend();
    }

    private void addIov(long address, long len) {
        long o = 16L * iovCount++;
        iov.set(JAVA_LONG, o, address);
        iov.set(JAVA_LONG, o + 8, len);
    }

    private void submitSend() {
        msghdr.fill((byte) 0);
        msghdr.set(JAVA_LONG, 16, iov.address() + 16L * iovFirst);
        msghdr.set(JAVA_LONG, 24, iovCount - iovFirst);
        try {
            long sqe = ring.prepReadWrite(OP_SENDMSG, fd, msghdr.address(), 1, 0, KIND_SEND << KIND_SHIFT);
            ring.setRwFlags(sqe, Sockets.MSG_NOSIGNAL);
        } catch (UringException e) {
            throw new IllegalStateException(e);
        }
        sendInFlight = true;
    }

    private void onSent(int res) {
        if (res <= 0) {
            if (!stopRequested) LOG.fine("nbd connection " + id + ": send failed: errno " + -res);
            broken = true;
            closing = true;
            for (int i = 0; i < sentCount; i++) release(sentTags[i]);
            sentCount = 0;
            while (replyCount > 0) {
                release(replyQueue[rqHead]);
                rqHead = rqHead + 1 == depth ? 0 : rqHead + 1;
                replyCount--;
            }
            return;
        }
        long n = res;
        while (iovFirst < iovCount) {
            long o = 16L * iovFirst;
            long len = iov.get(JAVA_LONG, o + 8);
            if (n < len) {
                iov.set(JAVA_LONG, o, iov.get(JAVA_LONG, o) + n);
                iov.set(JAVA_LONG, o + 8, len - n);
                submitSend(); // the rest of a partial send
                return;
            }
            n -= len;
            iovFirst++;
        }
        for (int i = 0; i < sentCount; i++) release(sentTags[i]);
        sentCount = 0;
    }

    private void armWake() {
        try {
            mailbox.arm(ring, KIND_WAKE << KIND_SHIFT);
        } catch (UringException e) {
            throw new IllegalStateException(e);
        }
    }

    private void tearDown() {
        if (target != null) {
            try {
                target.close();
            } catch (Exception e) {
                LOG.warning("nbd connection " + id + ": closing its queue: " + message(e));
            }
        }
        if (ring != null) ring.close();
        if (mailbox != null) mailbox.close();
        if (buffers != null) server.returnBuffers(buffers);
    }

    static String message(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}
