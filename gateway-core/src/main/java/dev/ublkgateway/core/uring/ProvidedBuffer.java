package dev.ublkgateway.core.uring;

import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One buffer the kernel fills on its own, for a multishot command: a provided-buffer ring of one slot
 * (group {@code group} of the ring) that holds one page-aligned buffer, consumed piece by piece
 * ({@link Op#PBUF_RING_INC}): each completion's bytes follow the last one's, so the reader keeps an offset.
 * When the buffer is used up the command ends; {@link #provide} hands it over again, from its start.
 * The memory is the caller's to release with {@link #close} after the ring is gone.
 */
public final class ProvidedBuffer implements AutoCloseable {
    private static final long BUF_ADDR = 0, BUF_LEN = 8, BUF_BID = 12, RING_TAIL = 14; // struct io_uring_buf
    private static final VarHandle TAIL = JAVA_SHORT.varHandle();

    private final MemorySegment slot;  // the ring: one struct io_uring_buf, whose resv field is the tail
    private final MemorySegment buffer;
    private short tail;

    private ProvidedBuffer(MemorySegment slot, MemorySegment buffer) {
        this.slot = slot;
        this.buffer = buffer;
    }

    /** Maps the ring and a buffer of {@code bytes} (rounded up to pages) and registers them as {@code group}. */
    public static ProvidedBuffer register(Ring ring, int group, long bytes) throws NativeException {
        MemorySegment slot = Libc.mmap(Libc.PAGE_SIZE, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0, "provided-buffer ring");
        MemorySegment buffer;
        try {
            buffer = Libc.mmap(Libc.pageAlign(bytes), Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_POPULATE, -1, 0, "provided buffer");
        } catch (NativeException e) {
            Libc.munmap(slot);
            throw e;
        }
        ProvidedBuffer b = new ProvidedBuffer(slot, buffer);
        try {
            ring.registerBufRing(slot, 1, group, Op.PBUF_RING_INC);
        } catch (NativeException | RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    public MemorySegment buffer() {
        return buffer;
    }

    /** Hands the whole buffer to the kernel (again): it fills it from the start. */
    public void provide() {
        slot.set(JAVA_LONG, BUF_ADDR, buffer.address());
        slot.set(JAVA_INT, BUF_LEN, (int) buffer.byteSize());
        slot.set(JAVA_SHORT, BUF_BID, (short) 0);
        tail++;
        TAIL.setRelease(slot, RING_TAIL, tail); // the slot's fields are visible before the new tail
    }

    @Override
    public void close() {
        Libc.munmap(buffer);
        Libc.munmap(slot);
    }
}
