package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.Errno;

/** Protocol constants of the NBD protocol (doc/proto.md of the NBD project). */
final class Nbd {
    static final long NBDMAGIC = 0x4e42444d41474943L, IHAVEOPT = 0x49484156454F5054L;
    static final long OPT_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513, SIMPLE_REPLY_MAGIC = 0x67446698, STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // handshake flags (server) and client flags
    static final int FLAG_FIXED_NEWSTYLE = 1, FLAG_NO_ZEROES = 2;

    // options
    static final int OPT_EXPORT_NAME = 1, OPT_ABORT = 2, OPT_LIST = 3, OPT_PEEK_EXPORT = 4, OPT_STARTTLS = 5,
            OPT_INFO = 6, OPT_GO = 7, OPT_STRUCTURED_REPLY = 8, OPT_LIST_META_CONTEXT = 9, OPT_SET_META_CONTEXT = 10,
            OPT_EXTENDED_HEADERS = 11;
    // option replies
    static final int REP_ACK = 1, REP_SERVER = 2, REP_INFO = 3, REP_META_CONTEXT = 4;
    static final int REP_ERR = 1 << 31;
    static final int REP_ERR_UNSUP = REP_ERR | 1, REP_ERR_POLICY = REP_ERR | 2, REP_ERR_INVALID = REP_ERR | 3,
            REP_ERR_PLATFORM = REP_ERR | 4, REP_ERR_TLS_REQD = REP_ERR | 5, REP_ERR_UNKNOWN = REP_ERR | 6,
            REP_ERR_SHUTDOWN = REP_ERR | 7, REP_ERR_BLOCK_SIZE_REQD = REP_ERR | 8, REP_ERR_TOO_BIG = REP_ERR | 9;
    // info types
    static final int INFO_EXPORT = 0, INFO_NAME = 1, INFO_DESCRIPTION = 2, INFO_BLOCK_SIZE = 3;

    // transmission flags
    static final int TF_HAS_FLAGS = 1, TF_READ_ONLY = 2, TF_SEND_FLUSH = 4, TF_SEND_FUA = 8, TF_ROTATIONAL = 16,
            TF_SEND_TRIM = 32, TF_SEND_WRITE_ZEROES = 64, TF_SEND_DF = 128, TF_CAN_MULTI_CONN = 256,
            TF_SEND_CACHE = 1024, TF_SEND_FAST_ZERO = 2048;

    // commands
    static final int CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2, CMD_FLUSH = 3, CMD_TRIM = 4, CMD_CACHE = 5,
            CMD_WRITE_ZEROES = 6, CMD_BLOCK_STATUS = 7;
    // command flags
    static final int CMD_FLAG_FUA = 1, CMD_FLAG_NO_HOLE = 2, CMD_FLAG_DF = 4, CMD_FLAG_REQ_ONE = 8,
            CMD_FLAG_FAST_ZERO = 16;

    // structured reply types and flags
    static final int REPLY_FLAG_DONE = 1;
    static final int REPLY_TYPE_NONE = 0, REPLY_TYPE_OFFSET_DATA = 1, REPLY_TYPE_BLOCK_STATUS = 5,
            REPLY_TYPE_ERROR = 32769;

    // the one metadata context this server offers, and the id it gives it
    static final String CONTEXT_ALLOCATION = "base:allocation", NAMESPACE_BASE = "base:";
    static final int CONTEXT_ALLOCATION_ID = 1;
    // base:allocation extent flags
    static final int STATE_HOLE = 1, STATE_ZERO = 2;

    // errors on the wire (the protocol's numbers, which happen to be Linux's)
    static final int EPERM = 1, EIO = 5, ENOMEM = 12, EINVAL = 22, ENOSPC = 28, EOVERFLOW = 75, ENOTSUP = 95,
            ESHUTDOWN = 108;

    static final int REQUEST_SIZE = 28, SIMPLE_REPLY_SIZE = 16, STRUCTURED_HEADER_SIZE = 20;

    private Nbd() {}

    /** Maps a (negative) Linux errno from the chain to the NBD protocol's error values. */
    static int wireError(int negErrno) {
        int e = -negErrno;
        return switch (e) {
            case Errno.EPERM, Errno.EACCES, Errno.EROFS -> EPERM;
            case Errno.ENOMEM -> ENOMEM;
            case Errno.EINVAL -> EINVAL;
            case Errno.ENOSPC, Errno.EDQUOT -> ENOSPC;
            case Errno.EOVERFLOW -> EOVERFLOW;
            case Errno.ENOTSUP -> ENOTSUP;
            case Errno.ESHUTDOWN -> ESHUTDOWN;
            default -> EIO;
        };
    }
}
