package dev.ublkgateway.core.frontend.ublk;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The two structs of the ublk I/O path (linux/ublk_cmd.h). Each handle takes the segment and the
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

    private IoStructs() {}

    private static VarHandle field(StructLayout struct, String name) {
        return struct.varHandle(groupElement(name));
    }
}
