package dev.ublkgateway.core.uring;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * A provided buffer consumed piece by piece, as ublk's multishot FETCH_IO_CMDS uses it, shown with a
 * multishot read of an eventfd (8 bytes a completion) on this machine's kernel (Linux >= 6.12).
 */
class ProvidedBufferTest {
    private static final byte READ_MULTISHOT = 49; // IORING_OP_READ_MULTISHOT
    private static final int GROUP = 3;

    private int[] last; // res, flags of the last completion

    @Test
    void eachCompletionFollowsTheLastInTheBufferUntilItIsUsedUpThenItIsGivenAgain() throws Exception {
        int efd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        try (Ring ring = Ring.create(8, 0); Arena a = Arena.ofConfined();
             ProvidedBuffer b = ProvidedBuffer.register(ring, GROUP, 4096)) {
            MemorySegment value = a.allocate(8);
            b.provide();
            armRead(ring, efd);
            int slots = (int) (b.buffer().byteSize() / 8);
            for (int i = 0; i < slots; i++) {
                post(ring, efd, value, 1000 + i);
                assertEquals(8, last[0], "completion " + i);
                assertNotEquals(0, last[1] & Op.CQE_F_MORE, "the read goes on while the buffer has room");
                assertEquals(1000 + i, b.buffer().get(JAVA_LONG, 8L * i), "the value sits after the previous one");
            }
            // used up: the read ends, without taking the value
            post(ring, efd, value, 7);
            assertEquals(-Errno.ENOBUFS, last[0]);
            assertEquals(0, last[1] & Op.CQE_F_MORE);
            // given again, the buffer is filled from its start
            b.provide();
            armRead(ring, efd);
            waitOne(ring);
            assertEquals(8, last[0]);
            assertEquals(7, b.buffer().get(JAVA_LONG, 0));
        } finally {
            Libc.close(efd);
        }
    }

    private static void armRead(Ring ring, int fd) throws UringException {
        long s = ring.prepReadWrite(READ_MULTISHOT, fd, 0, 0, 0, 1);
        ring.setFlags(s, Op.SQE_BUFFER_SELECT);
        ring.setBufGroup(s, GROUP);
    }

    private void post(Ring ring, int efd, MemorySegment value, long v) throws Exception {
        value.set(JAVA_LONG, 0, v);
        Libc.write(efd, value);
        waitOne(ring);
    }

    private void waitOne(Ring ring) throws UringException {
        last = null;
        while (last == null) {
            ring.submitAndWait(1);
            ring.reap((ud, res, flags) -> last = new int[] {res, flags});
        }
    }
}
