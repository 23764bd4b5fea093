package dev.ublkgateway.core.queue;

/**
 * The user_data of every SQE on a queue's ring: {@code kind << 56 | payload}. The engine keeps the two
 * highest kinds (the mailbox's wake-up read, a target's own SQEs); a frontend numbers its SQEs from 0.
 * A target SQE's payload is {@code cookie << 16 | tag}.
 */
public final class UserData {
    private static final int KIND_SHIFT = 56;
    private static final long PAYLOAD_MASK = (1L << KIND_SHIFT) - 1;
    /** Kinds a frontend may use: 0 up to this, exclusive. */
    public static final int FRONTEND_KINDS = 0xfe;
    static final int WAKE = 0xfe, TARGET = 0xff;

    private UserData() {}

    /** user_data for a frontend's SQE of {@code kind} (below {@link #FRONTEND_KINDS}). */
    public static long of(int kind, long payload) {
        return (long) kind << KIND_SHIFT | payload;
    }

    static long target(int tag, int cookie) {
        return of(TARGET, (cookie & 0xffffffffL) << 16 | tag);
    }

    public static int kind(long userData) {
        return (int) (userData >>> KIND_SHIFT);
    }

    public static long payload(long userData) {
        return userData & PAYLOAD_MASK;
    }

    static int tag(long userData) {
        return (int) (userData & 0xffff);
    }

    static int cookie(long userData) {
        return (int) (userData >>> 16);
    }
}
