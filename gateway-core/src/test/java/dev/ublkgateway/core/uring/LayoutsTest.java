package dev.ublkgateway.core.uring;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The struct layouts against the sizes and offsets of linux/io_uring.h and liburing's struct io_uring. */
class LayoutsTest {
    @Test
    void kernelStructs() {
        assertEquals(64, Layouts.SQE.byteSize());
        assertEquals(16, Layouts.CQE.byteSize());
        assertEquals(120, Layouts.PARAMS.byteSize());
        assertEquals(20, Layouts.params("features"));
        assertEquals(8, Ring.SQE_CMD_OP);
        assertEquals(32, Ring.SQE_USER_DATA);
        assertEquals(40, Ring.SQE_BUF_INDEX);
        assertEquals(48, Ring.SQE_CMD);
        assertEquals(8, Layouts.cqe("res"));
    }

    @Test
    void liburingRing() {
        assertEquals(32, Layouts.sq("kflags"));
        assertEquals(56, Layouts.sq("sqes"));
        assertEquals(68, Layouts.sq("sqe_tail"));
        assertEquals(104, Layouts.cq("khead"));
        assertEquals(104 + 48, Layouts.cq("cqes"));
        assertEquals(true, Layouts.IO_URING.byteSize() <= Layouts.IO_URING_ALLOCATED);
    }
}
