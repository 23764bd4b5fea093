package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.Sockets;
import dev.ublkgateway.core.queue.UserData;
import dev.ublkgateway.core.uring.Ring;
import dev.ublkgateway.core.uring.UringException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

import static dev.ublkgateway.core.frontend.nbd.Wire.*;
import static dev.ublkgateway.core.sys.MsgHdr.IOVEC;
import static dev.ublkgateway.core.sys.MsgHdr.IOV_BASE;
import static dev.ublkgateway.core.sys.MsgHdr.IOV_LEN;
import static dev.ublkgateway.core.sys.MsgHdr.MSGHDR;
import static dev.ublkgateway.core.sys.MsgHdr.MSG_IOV;
import static dev.ublkgateway.core.sys.MsgHdr.MSG_IOVLEN;

/**
 * The replies of one connection, in the order their requests finished: those ready together leave in
 * one gathered sendmsg on the connection's ring (one SQE at a time; a partial send sends the rest).
 * A slot is released once its reply is sent.
 */
final class Replies {
    private static final byte OP_SENDMSG = 9;
    private static final int MAX_IOV = 1024;

    private final Ring ring;
    private final int fd, depth;
    private final long userData;
    private final boolean structured;
    private final Slot[] slots;
    private final IntConsumer release;
    private final MemorySegment headers, iov, msghdr;
    private final int[] queue, sentTags;
    private int head, count;
    private int sentCount, iovCount, iovFirst;
    private boolean inFlight, broken;

    /** @param userData the user_data of the send SQEs */
    Replies(Ring ring, int fd, long userData, boolean structured, Slot[] slots, IntConsumer release, Arena arena) {
        this.ring = ring;
        this.fd = fd;
        this.userData = userData;
        this.depth = slots.length;
        headers = arena.allocate((long) REPLY_HEADER_SLOT * depth, 8);
        iov = arena.allocate(IOVEC, MAX_IOV);
        msghdr = arena.allocate(MSGHDR);
        this.structured = structured;
        this.slots = slots;
        this.release = release;
        queue = new int[depth];
        sentTags = new int[depth];
    }

    /** The slot's request finished (its result is set): queue its reply; dropped once sending failed. */
    void add(Slot s) {
        if (broken) {
            release.accept(s.tag());
            return;
        }
        int at = head + count;
        if (at >= depth) at -= depth;
        queue[at] = s.tag();
        count++;
    }

    /** A send is on the ring. */
    boolean sending() {
        return inFlight;
    }

    /** Sends what is queued, unless a send is still on its way. */
    void flush() {
        if (!inFlight && count > 0) start();
    }

    private void start() {
        iovCount = 0;
        iovFirst = 0;
        sentCount = 0;
        while (count > 0 && iovCount + 2 <= MAX_IOV) {
            int tag = queue[head];
            head = head + 1 == depth ? 0 : head + 1;
            count--;
            Slot s = slots[tag];
            long h = (long) tag * REPLY_HEADER_SLOT;
            boolean ok = s.result >= 0;
            boolean read = s.command == Nbd.CMD_READ;
            boolean status = s.command == Nbd.CMD_BLOCK_STATUS;
            int dataLen = ok && read ? s.length() : 0;
            addIov(headers.address() + h, structured && (read || status)
                    ? chunk(h, s, ok, status, dataLen) : simple(h, s, ok));
            if (dataLen > 0) addIov(s.buffer().address(), dataLen);
            if (ok && status) addIov(s.whole().address(), s.statusBytes);
            sentTags[sentCount++] = tag;
        }
        submit();
    }

    /** Writes a simple reply header at {@code h}; returns its length. */
    private long simple(long h, Slot s, boolean ok) {
        SIMPLE_MAGIC.set(headers, h, Nbd.SIMPLE_REPLY_MAGIC);
        SIMPLE_ERROR.set(headers, h, ok ? 0 : Nbd.wireError(s.result));
        SIMPLE_COOKIE.set(headers, h, s.cookie);
        return SIMPLE_REPLY.byteSize();
    }

    /** Writes the one structured reply chunk of a READ or BLOCK_STATUS at {@code h}; returns its header's length. */
    private long chunk(long h, Slot s, boolean ok, boolean status, int dataLen) {
        CHUNK_MAGIC.set(headers, h, Nbd.STRUCTURED_REPLY_MAGIC);
        CHUNK_FLAGS.set(headers, h, (short) Nbd.REPLY_FLAG_DONE);
        CHUNK_COOKIE.set(headers, h, s.cookie);
        if (!ok) {
            CHUNK_TYPE.set(headers, h, (short) Nbd.REPLY_TYPE_ERROR);
            CHUNK_LENGTH.set(headers, h, (int) (ERROR_CHUNK.byteSize() - CHUNK.byteSize()));
            ERROR_ERROR.set(headers, h, Nbd.wireError(s.result));
            ERROR_MESSAGE_LENGTH.set(headers, h, (short) 0);
            return ERROR_CHUNK.byteSize();
        }
        if (status) {
            CHUNK_TYPE.set(headers, h, (short) Nbd.REPLY_TYPE_BLOCK_STATUS);
            CHUNK_LENGTH.set(headers, h, (int) (BLOCK_STATUS_CHUNK.byteSize() - CHUNK.byteSize()) + s.statusBytes);
            BLOCK_STATUS_CONTEXT.set(headers, h, Nbd.CONTEXT_ALLOCATION_ID);
            return BLOCK_STATUS_CHUNK.byteSize();
        }
        if (dataLen == 0) {
            CHUNK_TYPE.set(headers, h, (short) Nbd.REPLY_TYPE_NONE);
            CHUNK_LENGTH.set(headers, h, 0);
            return CHUNK.byteSize();
        }
        CHUNK_TYPE.set(headers, h, (short) Nbd.REPLY_TYPE_OFFSET_DATA);
        CHUNK_LENGTH.set(headers, h, (int) (OFFSET_DATA_CHUNK.byteSize() - CHUNK.byteSize()) + dataLen);
        OFFSET_DATA_OFFSET.set(headers, h, s.offset());
        return OFFSET_DATA_CHUNK.byteSize();
    }

    private void addIov(long address, long len) {
        long o = IOVEC.byteSize() * iovCount++;
        IOV_BASE.set(iov, o, address);
        IOV_LEN.set(iov, o, len);
    }

    private void submit() {
        msghdr.fill((byte) 0);
        MSG_IOV.set(msghdr, 0L, iov.address() + IOVEC.byteSize() * iovFirst);
        MSG_IOVLEN.set(msghdr, 0L, (long) (iovCount - iovFirst));
        try {
            long sqe = ring.prepReadWrite(OP_SENDMSG, fd, msghdr.address(), 1, 0, userData);
            ring.setRwFlags(sqe, Sockets.MSG_NOSIGNAL);
        } catch (UringException e) {
            throw new IllegalStateException(e);
        }
        inFlight = true;
    }

    /** The send completed with {@code res}; false when it failed: every queued reply is dropped, and later ones too. */
    boolean onSent(int res) {
        inFlight = false;
        if (res <= 0) {
            broken = true;
            for (int i = 0; i < sentCount; i++) release.accept(sentTags[i]);
            sentCount = 0;
            while (count > 0) {
                release.accept(queue[head]);
                head = head + 1 == depth ? 0 : head + 1;
                count--;
            }
            return false;
        }
        long n = res;
        while (iovFirst < iovCount) {
            long o = IOVEC.byteSize() * iovFirst;
            long len = (long) IOV_LEN.get(iov, o);
            if (n < len) {
                IOV_BASE.set(iov, o, (long) IOV_BASE.get(iov, o) + n);
                IOV_LEN.set(iov, o, len - n);
                submit(); // the rest of a partial send
                return true;
            }
            n -= len;
            iovFirst++;
        }
        for (int i = 0; i < sentCount; i++) release.accept(sentTags[i]);
        sentCount = 0;
        return true;
    }
}
