package dev.ublkgateway.core.queue;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;

import java.lang.foreign.MemorySegment;

/** The reusable request object of one tag of a queue: a frontend refills it for every request on that tag. */
public class QueueRequest implements BlockRequest {
    private final QueueEngine<?> engine;
    private final int tag;
    private final MemorySegment whole;
    private final int registeredBuffer; // -1, or the ring buffer-table index of this tag's request pages
    private MemorySegment view = MemorySegment.NULL; // cached slice: same length → no new object
    private int op, flags, length;
    private long offset;
    /** A stage or the target returned PENDING: its result comes later, or a stage resumes it. */
    boolean held;

    public QueueRequest(QueueEngine<?> engine, int tag, MemorySegment whole) {
        this(engine, tag, whole, -1);
    }

    /**
     * @param registeredBuffer the index at which the kernel registers this tag's request pages in the
     *                         ring's buffer table (zero copy; {@code whole} is then empty), or -1
     */
    public QueueRequest(QueueEngine<?> engine, int tag, MemorySegment whole, int registeredBuffer) {
        this.engine = engine;
        this.tag = tag;
        this.whole = whole;
        this.registeredBuffer = registeredBuffer;
    }

    /** Fills the slot for a new request; only READ and WRITE carry data (a DISCARD may exceed the buffer). */
    public final void set(int op, int flags, long offset, int length) {
        this.op = op;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        // zero copy: the bytes are not in our memory, the buffer stays empty
        int dataLength = registeredBuffer < 0 && (op == BlockOp.READ || op == BlockOp.WRITE) ? length : 0;
        if (view.byteSize() != dataLength) view = whole.asSlice(0, dataLength);
    }

    /** The tag's whole buffer, whatever the request's length. */
    public final MemorySegment whole() {
        return whole;
    }

    @Override public final int op() { return op; }
    @Override public final int flags() { return flags; }
    @Override public final long offset() { return offset; }
    @Override public final int length() { return length; }
    @Override public final MemorySegment buffer() { return view; }
    @Override public final int registeredBuffer() { return registeredBuffer; }
    @Override public final int queue() { return engine.queueId(); }
    @Override public final int tag() { return tag; }

    @Override
    public final void complete(int result) {
        engine.completeLater(tag, result);
    }

    @Override
    public final void resume() {
        engine.resumeLater(tag);
    }
}
