package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.QueueContext;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A request for driving targets directly in tests; records the asynchronous completion. */
final class TestRequest implements BlockRequest {
    private final MemorySegment full;
    int op, flags, length, tag;
    long offset;
    volatile int completed = Integer.MIN_VALUE;

    TestRequest(Arena a, int capacity) {
        full = a.allocate(capacity, 4096);
    }

    TestRequest set(int op, int flags, long offset, int length) {
        this.op = op;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        this.completed = Integer.MIN_VALUE;
        return this;
    }

    static QueueContext context(int depth) {
        return new QueueContext() {
            public int queueId() { return 0; }
            public int depth() { return depth; }
            public int maxIoBytes() { return 1 << 20; }
        };
    }

    @Override public int op() { return op; }
    @Override public int flags() { return flags; }
    @Override public long offset() { return offset; }
    @Override public int length() { return length; }
    @Override public MemorySegment buffer() {
        return op == BlockOp.READ || op == BlockOp.WRITE ? full.asSlice(0, length) : full.asSlice(0, 0);
    }
    @Override public int queue() { return 0; }
    @Override public int tag() { return tag; }
    @Override public void complete(int result) { completed = result; }
}
