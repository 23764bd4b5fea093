package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;

import java.lang.foreign.MemorySegment;

/** One request slot of a connection, reused for every request that occupies it. */
final class Slot implements BlockRequest {
    private final NbdConnection conn;
    private final int tag;
    private final MemorySegment fullBuffer;
    private MemorySegment view = MemorySegment.NULL;
    int op, flags, length;
    long offset;
    long cookie;
    int command;
    /** The result to reply with: bytes or 0 on success, -errno on failure. */
    int result;
    boolean pending;
    /** For BLOCK_STATUS: the size of the descriptors at the start of {@link #whole}. */
    int statusBytes;

    Slot(NbdConnection conn, int tag, MemorySegment fullBuffer) {
        this.conn = conn;
        this.tag = tag;
        this.fullBuffer = fullBuffer;
    }

    void set(int command, long cookie, int op, int flags, long offset, int length, int dataLength) {
        this.command = command;
        this.cookie = cookie;
        this.op = op;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        this.result = 0;
        this.pending = false;
        if (view.byteSize() != dataLength) view = fullBuffer.asSlice(0, dataLength);
    }

    /** The slot's whole buffer, whatever the request's length. */
    MemorySegment whole() {
        return fullBuffer;
    }

    MemorySegment data() {
        return view;
    }

    @Override public int op() { return op; }
    @Override public int flags() { return flags; }
    @Override public long offset() { return offset; }
    @Override public int length() { return length; }
    @Override public MemorySegment buffer() { return view; }
    @Override public int queue() { return conn.queueId(); }
    @Override public int tag() { return tag; }

    @Override
    public void complete(int result) {
        conn.completeLater(tag, result);
    }

    @Override
    public void resume() {
        conn.resumeLater(tag);
    }

    boolean isRead() {
        return op == BlockOp.READ;
    }
}
