package dev.ublkgateway.api;

/** Block request operations and flags. Values match the ublk UAPI so the frontend passes them through. */
public final class BlockOp {
    public static final int READ = 0, WRITE = 1, FLUSH = 2, DISCARD = 3, WRITE_ZEROES = 5;

    /** Force unit access: the write must be durable before it completes. */
    public static final int FLAG_FUA = 1 << 13;
    /** WRITE_ZEROES may not deallocate (unmap) the range. */
    public static final int FLAG_NOUNMAP = 1 << 15;

    private BlockOp() {}

    public static String name(int op) {
        return switch (op) {
            case READ -> "READ";
            case WRITE -> "WRITE";
            case FLUSH -> "FLUSH";
            case DISCARD -> "DISCARD";
            case WRITE_ZEROES -> "WRITE_ZEROES";
            default -> "op " + op;
        };
    }
}
