package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.core.log.LogText;
import dev.ublkgateway.core.queue.QueueEngine;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.Sockets;
import dev.ublkgateway.core.queue.QueueFrontend;
import dev.ublkgateway.core.queue.UserData;
import dev.ublkgateway.core.uring.Op;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.logging.Level;
import java.util.logging.Logger;

import static dev.ublkgateway.core.frontend.nbd.Wire.REQUEST;
import static dev.ublkgateway.core.frontend.nbd.Wire.REQ_COOKIE;
import static dev.ublkgateway.core.frontend.nbd.Wire.REQ_FLAGS;
import static dev.ublkgateway.core.frontend.nbd.Wire.REQ_LENGTH;
import static dev.ublkgateway.core.frontend.nbd.Wire.REQ_MAGIC;
import static dev.ublkgateway.core.frontend.nbd.Wire.REQ_OFFSET;
import static dev.ublkgateway.core.frontend.nbd.Wire.REQ_TYPE;

/**
 * One NBD client connection, served by one platform thread: after the handshake it is the NBD side of
 * a {@link QueueEngine}, whose ring carries every socket receive, reply send and target I/O (the file
 * target's), so the connection is a queue of its device just as a ublk queue is.
 *
 * <p>Requests are read into a receive buffer and parsed in batches; up to {@code depth} are in flight
 * at once and each is answered as soon as it completes, in any order. Replies that are ready together
 * leave in one gathered sendmsg. When every slot is busy the connection stops reading, which pushes
 * back on the client through TCP.
 */
final class NbdConnection implements QueueFrontend<Slot> {
    private static final Logger LOG = Logger.getLogger(NbdConnection.class.getName());
    private static final int KIND_RECV = 1, KIND_PAYLOAD = 2, KIND_SEND = 3;
    private static final byte OP_RECV = 27;
    private static final int RECV_BUFFER = 64 * 1024;
    private static final int REQUEST_SIZE = (int) REQUEST.byteSize();
    private static final int BULK_WRITE = 32 * 1024;
    /** A WRITE longer than this (beyond any max block size) is a protocol violation: the connection closes. */
    private static final long MAX_DISCARDABLE_WRITE = 64L << 20;
    private static final int HANDSHAKE = 0, ESTABLISHED = 1, EVICTED = 2, CLOSED = 3;
    private final NbdServer server;
    private final int id, fd;
    private final Peer peer;
    /** When it was accepted ({@link System#nanoTime()}): the handshake's deadline counts from here. */
    final long acceptedNanos;
    private final Thread thread;
    private volatile boolean stopRequested;
    /** Changed under this object's lock, so the socket is never shut down after it was closed (and its number reused). */
    private volatile int phase = HANDSHAKE;

    /** Where requests and replies go: the client's socket, or the plain end of its TLS {@link Tunnel}. */
    private int dataFd;
    private Tunnel tunnel;
    private Export export;
    private boolean structured;
    private Commands commands;
    private BlockStatus blockStatus;
    private QueueEngine<Slot> engine;
    private Ring ring;
    private Replies replies;
    private MemorySegment recvBuf, buffers;
    private int rStart, rEnd;
    private boolean recvInFlight, closing;
    private Slot[] slots;
    private int[] freeTags;
    private int freeCount;
    private int payloadTag = -1, payloadDone;
    private long discardRemaining;
    private boolean bulkWrites; // the last request was a WRITE of at least BULK_WRITE bytes
    private int inFlight;

    NbdConnection(NbdServer server, int id, int fd, Peer peer, long acceptedNanos) {
        this.server = server;
        this.id = id;
        this.fd = fd;
        this.dataFd = fd;
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

    private void run() {
        try {
            Handshake.Result h;
            try (Arena ha = Arena.ofConfined()) {
                long deadline = acceptedNanos + server.handshakeMillis() * 1_000_000;
                DeadlineSocket io = new DeadlineSocket(fd, deadline, ha);
                NbdTls tls = server.tls();
                h = new Handshake(io, ha, server::lookup, server.exports(), this::establish, tls.mode(), plain -> {
                    tunnel = tls.pskKeys() != null ? PskTunnel.start(fd, tls.pskKeys(), plain, "nbd-conn-" + id)
                            : TlsTunnel.start(fd, tls.credentials().newEngine(), plain, "nbd-conn-" + id);
                    dataFd = tunnel.innerFd();
                    return new DeadlineSocket(dataFd, deadline, ha);
                }).run();
            }
            if (h == null || stopRequested) return;
            Sockets.setTimeout(dataFd, 0);
            export = h.export();
            structured = h.structured();
            commands = new Commands(export, structured, h.allocation());
            blockStatus = new BlockStatus(export, server.failureLog());
            LOG.fine("nbd connection " + id + " from " + peer + ": export " + export.name()
                    + (structured ? " (structured replies" + (h.allocation() ? ", base:allocation)" : ")") : ""));
            // Memory the kernel may still write into while the ring shuts down (an armed receive or
            // wake-up read) is freed by the garbage collector, never before the ring is gone.
            setUp(Arena.ofAuto());
            postRecv();
            engine.loop();
        } catch (javax.net.ssl.SSLException e) {
            server.clientLog().log(LOG, Level.INFO, "nbd connection " + id + " from " + peer + ": "
                    + LogText.oneLine(e.getMessage()) + "; closed");
        } catch (DeadlineSocket.Expired e) {
            server.clientLog().log(LOG, Level.INFO, "nbd connection " + id + " from " + peer
                    + ": did not finish the handshake in " + server.handshakeTimeText() + "; closed");
        } catch (Throwable t) {
            String m = LogText.oneLine(message(t));
            if (stopRequested || phase == EVICTED) LOG.fine("nbd connection " + id + " from " + peer + ": " + m);
            else server.clientLog().log(LOG, Level.INFO, "nbd connection " + id + " from " + peer + " ended: " + m);
        } finally {
            tearDown();
            if (tunnel != null) tunnel.close();
            synchronized (this) {
                phase = CLOSED;
                Libc.close(fd);
            }
            server.ended(this);
        }
    }

    private void setUp(Arena arena) throws Exception {
        int depth = export.depth(), maxIo = export.maxIoBytes();
        // One thread submits and reaps, so completion work can wait until it asks for events
        // (DEFER_TASKRUN, Linux 6.1); older kernels get the cooperative mode.
        int entries = Integer.highestOneBit(depth + 8) << 1;
        Ring r;
        try {
            r = Ring.create(entries, Op.SETUP_SINGLE_ISSUER | Op.SETUP_DEFER_TASKRUN);
        } catch (UringException e) {
            r = Ring.create(entries, Op.SETUP_COOP_TASKRUN);
        }
        engine = new QueueEngine<>("nbd " + export.name(), server.failureLog(), r, id % export.queues(), depth, maxIo,
                0, this);
        ring = r;
        recvBuf = arena.allocate(RECV_BUFFER, 4096);
        buffers = server.takeBuffers((long) depth * maxIo);
        slots = new Slot[depth];
        freeTags = new int[depth];
        for (int t = 0; t < depth; t++) {
            slots[t] = new Slot(engine, t, buffers.asSlice((long) t * maxIo, maxIo));
            freeTags[t] = depth - 1 - t;
        }
        freeCount = depth;
        replies = new Replies(ring, dataFd, UserData.of(KIND_SEND, 0), structured, slots, this::release, arena);
        engine.open(slots, export.target());
    }

    /** Closing, and every request answered (or dropped), no target I/O and no send left on the ring. */
    @Override
    public boolean finished() {
        return closing && inFlight == 0 && !engine.busy() && !replies.sending();
    }

    @Override
    public void afterBatch() {
        if (!closing) {
            parse();
            postRecv();
        }
        // after parsing: requests a target answered synchronously have replies but no CQE to wake us
        replies.flush();
    }

    @Override
    public void onCompletion(int kind, long payload, int res, int cqeFlags) {
        if (kind == KIND_SEND) {
            if (!replies.onSent(res)) {
                if (!stopRequested) LOG.fine("nbd connection " + id + ": send failed: errno " + -res);
                closing = true;
            }
            return;
        }
        recvInFlight = false;
        if (res <= 0) {
            endOfInput(res);
        } else if (kind == KIND_RECV) {
            rEnd += res;
            parse();
        } else {
            payloadDone += res;
            Slot s = slots[payloadTag];
            if (payloadDone == s.length()) {
                payloadTag = -1;
                engine.submit(s);
            }
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
                int n = Math.min(s.length() - payloadDone, avail);
                MemorySegment.copy(recvBuf, rStart, s.buffer(), payloadDone, n);
                rStart += n;
                payloadDone += n;
                if (payloadDone < s.length()) return;
                payloadTag = -1;
                engine.submit(s);
                continue;
            }
            if (discardRemaining > 0) {
                int n = (int) Math.min(discardRemaining, avail);
                rStart += n;
                discardRemaining -= n;
                if (discardRemaining > 0) return;
                continue;
            }
            if (avail < REQUEST_SIZE || freeCount == 0) return;
            int p = rStart;
            rStart += REQUEST_SIZE;
            if ((int) REQ_MAGIC.get(recvBuf, (long) p) != Nbd.REQUEST_MAGIC) {
                server.clientLog().log(LOG, Level.WARNING, "nbd connection " + id + " from " + peer
                        + ": bad request magic; closing the connection");
                closing = true;
                return;
            }
            request(Short.toUnsignedInt((short) REQ_FLAGS.get(recvBuf, (long) p)),
                    Short.toUnsignedInt((short) REQ_TYPE.get(recvBuf, (long) p)),
                    (long) REQ_COOKIE.get(recvBuf, (long) p), (long) REQ_OFFSET.get(recvBuf, (long) p),
                    Integer.toUnsignedLong((int) REQ_LENGTH.get(recvBuf, (long) p)));
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
        int op = Commands.op(type);
        int err = commands.error(op, flags, offset, length);
        int bflags = Commands.blockFlags(op, flags);
        if (err != 0) {
            s.set(type, cookie, op, bflags, offset, 0);
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
            reply(s, -err);
            return;
        }
        int len = (int) length;
        bulkWrites = op == BlockOp.WRITE && len >= BULK_WRITE;
        s.set(type, cookie, op, bflags, op == BlockOp.FLUSH ? 0 : offset, op == BlockOp.FLUSH ? 0 : len);
        if ((op == BlockOp.READ || op == BlockOp.WRITE) && len == 0) {
            reply(s, 0);
        } else if (op == BlockOp.WRITE) {
            payloadTag = tag;
            payloadDone = 0;
        } else {
            engine.submit(s);
        }
    }

    /** NBD_CMD_BLOCK_STATUS, answered at once. */
    private void blockStatus(Slot s, int flags, long cookie, long offset, long length) {
        s.set(Nbd.CMD_BLOCK_STATUS, cookie, -1, 0, offset, 0);
        s.statusBytes = 0;
        int err = commands.blockStatusError(flags, offset, length);
        reply(s, err != 0 ? -err : blockStatus.answer(s, flags, offset, length));
    }

    /** The request's final result: its reply is queued, and sent after this batch. */
    @Override
    public void reply(Slot s, int result) {
        s.result = result;
        replies.add(s);
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
                long sqe = ring.prepReadWrite(OP_RECV, dataFd, s.buffer().address() + payloadDone, s.length() - payloadDone, 0,
                        UserData.of(KIND_PAYLOAD, 0));
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
            int want = bulkWrites && rEnd < REQUEST_SIZE ? REQUEST_SIZE - rEnd : RECV_BUFFER - rEnd;
            ring.prepReadWrite(OP_RECV, dataFd, recvBuf.address() + rEnd, want, 0, UserData.of(KIND_RECV, 0));
            recvInFlight = true;
        } catch (UringException e) {
            throw new IllegalStateException(e);
        }
    }

    private void tearDown() {
        if (engine != null) engine.close(); // the target's queue, then the ring: nothing writes the buffers after
        if (buffers != null) server.returnBuffers(buffers);
    }

    static String message(Throwable t) {
        return QueueEngine.message(t);
    }
}
