package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;

import java.lang.foreign.MemorySegment;

/** The reusable request object of one (queue, tag) slot. */
final class TagRequest implements BlockRequest {
    private final UblkQueue queue;
    private final int tag;
    private final MemorySegment fullBuffer;
    private MemorySegment view = MemorySegment.NULL; // cached slice: same length → no new object
    int op, flags, length;
    long offset;

    TagRequest(UblkQueue queue, int tag, MemorySegment fullBuffer) {
        this.queue = queue;
        this.tag = tag;
        this.fullBuffer = fullBuffer;
    }

    void set(int op, int flags, long offset, int length) {
        this.op = op;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        // Only READ and WRITE carry data; a DISCARD's length may exceed the buffer.
        int dataLength = op == BlockOp.READ || op == BlockOp.WRITE ? length : 0;
        if (view.byteSize() != dataLength) view = fullBuffer.asSlice(0, dataLength);
    }

    long bufferAddress() {
        return fullBuffer.address();
    }

    @Override public int op() { return op; }
    @Override public int flags() { return flags; }
    @Override public long offset() { return offset; }
    @Override public int length() { return length; }
    @Override public MemorySegment buffer() { return view; }
    @Override public int queue() { return queue.id(); }
    @Override public int tag() { return tag; }

    @Override
    public void complete(int result) {
        queue.completeLater(tag, result);
    }

    @Override
    public void resume() {
        queue.resumeLater(tag);
    }
}
