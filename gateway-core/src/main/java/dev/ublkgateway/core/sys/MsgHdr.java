package dev.ublkgateway.core.sys;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** struct iovec and struct msghdr (x86-64 / aarch64 Linux), pointers as plain addresses. */
public final class MsgHdr {
    public static final StructLayout IOVEC = MemoryLayout.structLayout(
            JAVA_LONG.withName("iov_base"),
            JAVA_LONG.withName("iov_len"));
    public static final VarHandle IOV_BASE = IOVEC.varHandle(groupElement("iov_base"));
    public static final VarHandle IOV_LEN = IOVEC.varHandle(groupElement("iov_len"));

    public static final StructLayout MSGHDR = MemoryLayout.structLayout(
            JAVA_LONG.withName("msg_name"),
            JAVA_INT.withName("msg_namelen"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("msg_iov"),
            JAVA_LONG.withName("msg_iovlen"),
            JAVA_LONG.withName("msg_control"),
            JAVA_LONG.withName("msg_controllen"),
            JAVA_INT.withName("msg_flags"),
            MemoryLayout.paddingLayout(4));
    public static final VarHandle MSG_IOV = MSGHDR.varHandle(groupElement("msg_iov"));
    public static final VarHandle MSG_IOVLEN = MSGHDR.varHandle(groupElement("msg_iovlen"));

    private MsgHdr() {}
}
