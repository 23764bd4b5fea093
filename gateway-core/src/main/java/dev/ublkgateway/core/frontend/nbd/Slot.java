package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.queue.QueueEngine;
import dev.ublkgateway.core.queue.QueueRequest;

import java.lang.foreign.MemorySegment;

/** One request slot of a connection, reused for every request that occupies it: what the reply needs. */
final class Slot extends QueueRequest {
    long cookie;
    int command;
    /** The result to reply with: bytes or 0 on success, -errno on failure. */
    int result;
    /** For BLOCK_STATUS: the size of the descriptors at the start of {@link #whole}. */
    int statusBytes;

    Slot(QueueEngine<Slot> engine, int tag, MemorySegment whole) {
        super(engine, tag, whole);
    }

    void set(int command, long cookie, int op, int flags, long offset, int length) {
        this.command = command;
        this.cookie = cookie;
        this.result = 0;
        set(op, flags, offset, length);
    }
}
