package dev.ublkgateway.core.frontend.ublk;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The structs of the ublk I/O path (linux/ublk_cmd.h). Each handle takes the segment and the
 * struct's byte offset in it.
 */
final class IoStructs {
    /** struct ublksrv_io_desc: what the kernel asks of one tag, in the queue's mmapped array. */
    static final StructLayout IO_DESC = MemoryLayout.structLayout(
            JAVA_INT.withName("op_flags"),
            JAVA_INT.withName("nr_sectors"), // or nr_zones
            JAVA_LONG.withName("start_sector"),
            JAVA_LONG.withName("addr"));
    static final VarHandle DESC_OP_FLAGS = field(IO_DESC, "op_flags");
    static final VarHandle DESC_NR_SECTORS = field(IO_DESC, "nr_sectors");
    static final VarHandle DESC_START_SECTOR = field(IO_DESC, "start_sector");

    /** struct ublksrv_io_cmd: the payload of a FETCH_REQ / COMMIT_AND_FETCH_REQ in sqe->cmd. */
    static final StructLayout IO_CMD = MemoryLayout.structLayout(
            JAVA_SHORT.withName("q_id"),
            JAVA_SHORT.withName("tag"),
            JAVA_INT.withName("result"),
            JAVA_LONG.withName("addr"));
    static final VarHandle CMD_Q_ID = field(IO_CMD, "q_id");
    static final VarHandle CMD_TAG = field(IO_CMD, "tag");
    static final VarHandle CMD_RESULT = field(IO_CMD, "result");
    static final VarHandle CMD_ADDR = field(IO_CMD, "addr");

    /** struct ublk_batch_io: the payload of a PREP / COMMIT / FETCH_IO_CMDS (BATCH_IO) in sqe->cmd. */
    static final StructLayout BATCH_IO = MemoryLayout.structLayout(
            JAVA_SHORT.withName("q_id"),
            JAVA_SHORT.withName("flags"),
            JAVA_SHORT.withName("nr_elem"),
            JAVA_BYTE.withName("elem_bytes"),
            JAVA_BYTE.withName("reserved"),
            JAVA_LONG.withName("reserved2"));
    static final VarHandle BATCH_Q_ID = field(BATCH_IO, "q_id");
    static final VarHandle BATCH_FLAGS = field(BATCH_IO, "flags");
    static final VarHandle BATCH_NR_ELEM = field(BATCH_IO, "nr_elem");
    static final VarHandle BATCH_ELEM_BYTES = field(BATCH_IO, "elem_bytes");

    /**
     * struct ublk_elem_header: one tag of a PREP / COMMIT_IO_CMDS buffer; with BATCH_F_HAS_BUF_ADDR a u64
     * buffer address follows it in the element.
     */
    static final StructLayout ELEM = MemoryLayout.structLayout(
            JAVA_SHORT.withName("tag"),
            JAVA_SHORT.withName("buf_index"),
            JAVA_INT.withName("result"));
    static final VarHandle ELEM_TAG = field(ELEM, "tag");
    static final VarHandle ELEM_BUF_INDEX = field(ELEM, "buf_index");
    static final VarHandle ELEM_RESULT = field(ELEM, "result");

    private IoStructs() {}

    private static VarHandle field(StructLayout struct, String name) {
        return struct.varHandle(groupElement(name));
    }
}
