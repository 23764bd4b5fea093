package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.queue.UserData;
import dev.ublkgateway.core.uring.Ring;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commits of a BATCH_IO queue as the SQEs it prepares show them (on this machine's io_uring, never
 * submitted): the answers of a turn in one COMMIT_IO_CMDS, and what the kernel did not take sent again.
 */
class BatchCommandsTest {
    private static final int SQE_BYTES = 64;

    /** One prepared COMMIT_IO_CMDS: its batch header and its elements (tag, result, buffer). */
    record Commit(int kind, int buffer, int flags, int elemBytes, List<long[]> elements) {}

    private static Commit commitAt(Ring ring, int index) {
        MemorySegment sq = ring.sqes();
        long s = (long) index * SQE_BYTES;
        assertEquals(Uapi.IO_COMMIT_IO_CMDS, sq.get(JAVA_INT, s + Ring.SQE_CMD_OP));
        long userData = sq.get(JAVA_LONG, s + Ring.SQE_USER_DATA);
        long c = s + Ring.SQE_CMD;
        int flags = (short) IoStructs.BATCH_FLAGS.get(sq, c), n = (short) IoStructs.BATCH_NR_ELEM.get(sq, c),
                bytes = (byte) IoStructs.BATCH_ELEM_BYTES.get(sq, c);
        assertEquals(n * bytes, sq.get(JAVA_INT, s + Ring.SQE_LEN), "sqe->len covers the elements");
        MemorySegment e = MemorySegment.ofAddress(sq.get(JAVA_LONG, s + Ring.SQE_ADDR)).reinterpret((long) n * bytes);
        List<long[]> elements = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long o = (long) i * bytes;
            elements.add(new long[] {(short) IoStructs.ELEM_TAG.get(e, o), (int) IoStructs.ELEM_RESULT.get(e, o),
                bytes == 16 ? e.get(JAVA_LONG, o + 8) : -1});
        }
        return new Commit(UserData.kind(userData), (int) UserData.payload(userData), flags, bytes, elements);
    }

    private static List<Long> tags(Commit c) {
        return c.elements().stream().map(e -> e[0]).toList();
    }

    @Test
    void answersOfATurnGoInOneCommitWithTheirBuffersAndWhatTheKernelLeavesGoesAgain() throws Exception {
        try (Ring ring = Ring.create(16, 0);
             BatchCommands b = new BatchCommands(ring, 0, 8, DataPath.COPY, t -> 0x10000L * (t + 1))) {
            b.flush();
            assertEquals(0, ring.pending(), "nothing to commit: no command");
            b.commit(3, 4096);
            b.commit(5, -Errno.EIO);
            b.commit(7, 0);
            b.flush();
            assertEquals(1, ring.pending());
            Commit first = commitAt(ring, 0);
            assertEquals(BatchCommands.KIND_COMMIT, first.kind());
            assertEquals(Uapi.BATCH_F_HAS_BUF_ADDR, first.flags(), "a copying device names each tag's buffer");
            assertEquals(16, first.elemBytes());
            assertEquals(List.of(3L, 5L, 7L), tags(first));
            assertEquals(4096, first.elements().get(0)[1]);
            assertEquals(-Errno.EIO, first.elements().get(1)[1]);
            assertEquals(0x40000L, first.elements().get(0)[2]);
            assertFalse(b.drained());

            // answers of the next turn gather in the other buffer; the kernel took only the first one
            b.commit(1, 512);
            b.onCompletion(BatchCommands.KIND_COMMIT, first.buffer(), 16, 0, t -> {}, false);
            b.flush();
            Commit second = commitAt(ring, 1);
            assertEquals(1 - first.buffer(), second.buffer());
            assertEquals(List.of(1L, 5L, 7L), tags(second), "the new answer, then the two the kernel left");

            // the kernel refuses the first element: that one is dropped, the rest go again
            b.onCompletion(BatchCommands.KIND_COMMIT, second.buffer(), -Errno.EBUSY, 0, t -> {}, false);
            b.flush();
            Commit third = commitAt(ring, 2);
            assertEquals(List.of(5L, 7L), tags(third));
            b.onCompletion(BatchCommands.KIND_COMMIT, third.buffer(), 32, 0, t -> {}, false);
            assertTrue(b.drained(), "every commit answered");
            b.flush();
            assertEquals(3, ring.pending(), "nothing left to send");
        }
    }

    @Test
    void aDeviceWithoutBuffersSendsHeadersOnlyAndZeroCopyNamesTheTagsSlot() throws Exception {
        try (Ring ring = Ring.create(16, 0);
             BatchCommands zc = new BatchCommands(ring, 2, 8, DataPath.ZERO_COPY, t -> 0L)) {
            zc.commit(6, 4096);
            zc.flush();
            Commit c = commitAt(ring, 0);
            assertEquals(0, c.flags());
            assertEquals(8, c.elemBytes());
            assertEquals(List.of(6L), tags(c));
            long e = ring.sqes().get(JAVA_LONG, Ring.SQE_ADDR);
            assertEquals((short) 6, (short) IoStructs.ELEM_BUF_INDEX.get(MemorySegment.ofAddress(e).reinterpret(8), 0L),
                    "buf_index: the tag's slot");
            assertEquals((short) 2, (short) IoStructs.BATCH_Q_ID.get(ring.sqes(), Ring.SQE_CMD), "q_id");
        }
    }

    @Test
    void aSecondTurnWaitsWhileBothBuffersAreWithTheKernel() throws Exception {
        try (Ring ring = Ring.create(16, 0);
             BatchCommands b = new BatchCommands(ring, 0, 8, DataPath.NONE, t -> 0L)) {
            b.commit(0, 0);
            b.flush();
            b.commit(1, 0);
            b.flush();
            assertEquals(1, ring.pending(), "the second turn's answers wait for the first commit's completion");
            b.onCompletion(BatchCommands.KIND_COMMIT, commitAt(ring, 0).buffer(), 8, 0, t -> {}, false);
            b.flush();
            assertEquals(List.of(1L), tags(commitAt(ring, 1)));
        }
    }
}
