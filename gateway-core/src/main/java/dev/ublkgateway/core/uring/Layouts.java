package dev.ublkgateway.core.uring;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The io_uring structs read and written in Java: the kernel's (linux/io_uring.h) and the leading,
 * stable fields of liburing's {@code struct io_uring} (unchanged since liburing 2.2).
 */
final class Layouts {
    /** liburing's struct io_uring_sq, up to the fields read here. */
    private static final StructLayout SQ = MemoryLayout.structLayout(
            ADDRESS.withName("khead"),
            ADDRESS.withName("ktail"),
            ADDRESS.withName("kring_mask"),
            ADDRESS.withName("kring_entries"),
            ADDRESS.withName("kflags"),
            ADDRESS.withName("kdropped"),
            ADDRESS.withName("array"),
            ADDRESS.withName("sqes"),
            JAVA_INT.withName("sqe_head"),
            JAVA_INT.withName("sqe_tail"),
            JAVA_LONG.withName("ring_sz"),
            ADDRESS.withName("ring_ptr"),
            JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"),
            MemoryLayout.sequenceLayout(2, JAVA_INT).withName("pad"));

    /** liburing's struct io_uring_cq, up to the fields read here. */
    private static final StructLayout CQ = MemoryLayout.structLayout(
            ADDRESS.withName("khead"),
            ADDRESS.withName("ktail"),
            ADDRESS.withName("kring_mask"),
            ADDRESS.withName("kring_entries"),
            ADDRESS.withName("kflags"),
            ADDRESS.withName("koverflow"),
            ADDRESS.withName("cqes"));

    /** liburing's struct io_uring: the sq part, then the cq part. */
    static final StructLayout IO_URING = MemoryLayout.structLayout(SQ.withName("sq"), CQ.withName("cq"));
    /** What is allocated for it: generous, liburing's own is 216 bytes. */
    static final long IO_URING_ALLOCATED = 512;

    /** struct io_sqring_offsets / io_cqring_offsets: both 40 bytes; not read here. */
    private static final MemoryLayout RING_OFFSETS = MemoryLayout.sequenceLayout(10, JAVA_INT);

    /** struct io_uring_params. */
    static final StructLayout PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("sq_entries"),
            JAVA_INT.withName("cq_entries"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("sq_thread_cpu"),
            JAVA_INT.withName("sq_thread_idle"),
            JAVA_INT.withName("features"),
            JAVA_INT.withName("wq_fd"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("resv"),
            RING_OFFSETS.withName("sq_off"),
            RING_OFFSETS.withName("cq_off"));

    /** struct io_uring_sqe (64 bytes); union members named by the use made of them here. */
    static final StructLayout SQE = MemoryLayout.structLayout(
            JAVA_BYTE.withName("opcode"),
            JAVA_BYTE.withName("flags"),
            JAVA_SHORT.withName("ioprio"),
            JAVA_INT.withName("fd"),
            JAVA_LONG.withName("off"),       // union: cmd_op (u32) for URING_CMD
            JAVA_LONG.withName("addr"),
            JAVA_INT.withName("len"),
            JAVA_INT.withName("rw_flags"),   // union: fsync_flags, poll32_events, msg_flags
            JAVA_LONG.withName("user_data"),
            JAVA_SHORT.withName("buf_index"),
            JAVA_SHORT.withName("personality"),
            JAVA_INT.withName("splice_fd_in"),
            JAVA_LONG.withName("addr3"),     // union: cmd[], the URING_CMD payload (16 bytes here)
            JAVA_LONG.withName("pad2"));

    /** struct io_uring_cqe (16 bytes, without CQE32). */
    static final StructLayout CQE = MemoryLayout.structLayout(
            JAVA_LONG.withName("user_data"),
            JAVA_INT.withName("res"),
            JAVA_INT.withName("flags"));

    private Layouts() {}

    static long sq(String field) {
        return IO_URING.byteOffset(groupElement("sq"), groupElement(field));
    }

    static long cq(String field) {
        return IO_URING.byteOffset(groupElement("cq"), groupElement(field));
    }

    static long params(String field) {
        return PARAMS.byteOffset(groupElement(field));
    }

    static long sqe(String field) {
        return SQE.byteOffset(groupElement(field));
    }

    static long cqe(String field) {
        return CQE.byteOffset(groupElement(field));
    }
}
