package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.BlockOp;

/** NBD commands as block requests: the operation and flags they carry, and the checks they must pass. */
final class Commands {
    private final Export export;
    private final boolean structured, allocation;
    private final int maxIo;

    /** @param structured, allocation what the client negotiated */
    Commands(Export export, boolean structured, boolean allocation) {
        this.export = export;
        this.structured = structured;
        this.allocation = allocation;
        this.maxIo = export.maxIoBytes();
    }

    /** The block operation of a data command (READ, WRITE, FLUSH, TRIM, WRITE_ZEROES); -1 for others. */
    static int op(int type) {
        return switch (type) {
            case Nbd.CMD_READ -> BlockOp.READ;
            case Nbd.CMD_WRITE -> BlockOp.WRITE;
            case Nbd.CMD_FLUSH -> BlockOp.FLUSH;
            case Nbd.CMD_TRIM -> BlockOp.DISCARD;
            case Nbd.CMD_WRITE_ZEROES -> BlockOp.WRITE_ZEROES;
            default -> -1;
        };
    }

    /** The block request flags of a command's flags. */
    static int blockFlags(int op, int flags) {
        int bflags = 0;
        if ((flags & Nbd.CMD_FLAG_FUA) != 0) bflags |= BlockOp.FLAG_FUA;
        if (op == BlockOp.WRITE_ZEROES && (flags & Nbd.CMD_FLAG_NO_HOLE) != 0) bflags |= BlockOp.FLAG_NOUNMAP;
        return bflags;
    }

    /** 0 when a data command ({@link #op}) may go to the target, or the NBD error to answer it with. */
    int error(int op, int flags, long offset, long length) {
        int allowed = switch (op) {
            case BlockOp.READ -> Nbd.CMD_FLAG_DF;
            case BlockOp.WRITE, BlockOp.DISCARD -> Nbd.CMD_FLAG_FUA;
            case BlockOp.FLUSH -> 0;
            case BlockOp.WRITE_ZEROES -> Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE;
            default -> -1;
        };
        if (allowed < 0) return Nbd.EINVAL;
        boolean data = op == BlockOp.READ || op == BlockOp.WRITE;
        boolean writes = op == BlockOp.WRITE || op == BlockOp.DISCARD || op == BlockOp.WRITE_ZEROES;
        if ((flags & ~allowed) != 0) return Nbd.EINVAL;
        if (writes && export.readOnly()) return Nbd.EPERM;
        if (op != BlockOp.FLUSH && !inside(offset, length)) return writes ? Nbd.ENOSPC : Nbd.EINVAL;
        if (op != BlockOp.FLUSH && !aligned(offset, length)) return Nbd.EINVAL;
        if (data && length > maxIo) return structured ? Nbd.EOVERFLOW : Nbd.EINVAL;
        if (!data && length > Integer.MAX_VALUE) return Nbd.EINVAL;
        if ((op == BlockOp.DISCARD || op == BlockOp.WRITE_ZEROES) && !export.target().supportsDiscard()) return Nbd.EINVAL;
        return 0;
    }

    /** As {@link #error} for BLOCK_STATUS: only with base:allocation negotiated. */
    int blockStatusError(int flags, long offset, long length) {
        if (!allocation || (flags & ~Nbd.CMD_FLAG_REQ_ONE) != 0 || length == 0 || !inside(offset, length)
                || !aligned(offset, length)) {
            return Nbd.EINVAL;
        }
        return 0;
    }

    /** Within the export; offset + length could overflow: an offset near 2^63 would pass and reach the target. */
    private boolean inside(long offset, long length) {
        return offset >= 0 && offset <= export.sizeBytes() - length;
    }

    private boolean aligned(long offset, long length) {
        return ((offset | length) & (export.blockSize() - 1)) == 0;
    }
}
