package dev.ublkgateway.core.uring;

import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.logging.Level;
import java.util.logging.Logger;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hands per-tag events (a held request's result, or "resume it") from any thread to the one thread
 * that owns a ring: one slot per tag, and an eventfd whose read the owner keeps queued on its ring,
 * written only when the mailbox goes from empty to not empty. The owner drains it when that read
 * completes, so a target or stage is never re-entered from a foreign thread.
 */
public final class Mailbox implements AutoCloseable {
    /** What the owner does with each event it drains. */
    public interface Receiver {
        void completed(int tag, int result);

        void resumed(int tag);
    }

    private static final Logger LOG = Logger.getLogger(Mailbox.class.getName());
    private static final int EMPTY = Integer.MIN_VALUE;
    private static final int RESUME = Integer.MIN_VALUE + 1; // results are >= -4095, so never these
    private static final MemorySegment ONE = Arena.global().allocateFrom(JAVA_LONG, 1L);

    private final String owner;
    private final AtomicIntegerArray slots;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final Object fdLock = new Object();
    // freed only once unreachable: a read the closing ring cancels late may still land in it
    private final MemorySegment readBuf = Arena.ofAuto().allocate(8, 8);
    private int fd; // closed under fdLock: a closed fd number may be reused by another file

    /** @param owner names the ring's owner in log lines */
    public Mailbox(String owner, int tags) throws NativeException {
        this.owner = owner;
        this.slots = new AtomicIntegerArray(tags);
        for (int t = 0; t < tags; t++) slots.set(t, EMPTY);
        this.fd = Libc.eventfd(0, 0);
    }

    /** From any thread: the request on {@code tag} finished with {@code result}. */
    public void complete(int tag, int result) {
        post(tag, result);
    }

    /** From any thread: a stage passes on the request it held on {@code tag}. */
    public void resume(int tag) {
        post(tag, RESUME);
    }

    private void post(int tag, int value) {
        slots.set(tag, value);
        if (pending.compareAndSet(false, true)) wake();
    }

    /** Wakes the owner even with nothing posted (to make it look at a stop flag); a no-op once closed. */
    public void wake() {
        synchronized (fdLock) {
            if (fd < 0) return; // the owner is gone (a late completion, or a stop racing its exit)
            try {
                Libc.write(fd, ONE);
            } catch (NativeException e) {
                LOG.log(Level.WARNING, owner + ": wake-up failed: " + e.getMessage());
            }
        }
    }

    /** Owner thread: queues the eventfd read on its ring; re-arm after every completion of it. */
    public void arm(Ring ring, long userData) throws UringException {
        ring.prepReadWrite(Op.READ, fd, readBuf.address(), 8, 0, userData);
    }

    /** Owner thread: hands every posted event to {@code receiver} and empties the slots. */
    public void drain(Receiver receiver) {
        pending.set(false); // before reading the slots: a post after this wakes us again
        for (int t = 0; t < slots.length(); t++) {
            int r = slots.get(t);
            if (r == EMPTY) continue;
            slots.set(t, EMPTY);
            if (r == RESUME) receiver.resumed(t);
            else receiver.completed(t, r);
        }
    }

    @Override
    public void close() {
        synchronized (fdLock) {
            if (fd >= 0) Libc.close(fd);
            fd = -1;
        }
    }
}
