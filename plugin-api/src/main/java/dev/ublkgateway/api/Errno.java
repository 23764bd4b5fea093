package dev.ublkgateway.api;

/**
 * Linux errno numbers, for the results of {@link BlockStage} and {@link Target} calls: a request fails
 * with {@code -Errno.EIO}, never with a bare number. {@link #name} turns a number back into its name.
 */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, EINTR = 4, EIO = 5, ENXIO = 6, EBADF = 9, EAGAIN = 11,
            ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22,
            ENFILE = 23, EMFILE = 24, EFBIG = 27, ENOSPC = 28, EROFS = 30, ERANGE = 34, ENOSYS = 38, ENODATA = 61, ETIME = 62,
            EOVERFLOW = 75, EOPNOTSUPP = 95, ENOTSUP = 95, EADDRINUSE = 98, ECONNABORTED = 103, ECONNRESET = 104,
            ENOBUFS = 105, ESHUTDOWN = 108, ETIMEDOUT = 110, EDQUOT = 122, ECANCELED = 125;

    private static final String[] NAMES = new String[134];
    static {
        String[][] known = {
            {"1", "EPERM"}, {"2", "ENOENT"}, {"3", "ESRCH"}, {"4", "EINTR"}, {"5", "EIO"}, {"6", "ENXIO"},
            {"7", "E2BIG"}, {"9", "EBADF"}, {"11", "EAGAIN"}, {"12", "ENOMEM"}, {"13", "EACCES"},
            {"14", "EFAULT"}, {"16", "EBUSY"}, {"17", "EEXIST"}, {"19", "ENODEV"}, {"21", "EISDIR"},
            {"22", "EINVAL"}, {"23", "ENFILE"}, {"24", "EMFILE"}, {"25", "ENOTTY"}, {"27", "EFBIG"}, {"28", "ENOSPC"},
            {"30", "EROFS"}, {"34", "ERANGE"}, {"38", "ENOSYS"}, {"61", "ENODATA"}, {"62", "ETIME"},
            {"75", "EOVERFLOW"}, {"95", "EOPNOTSUPP"}, {"98", "EADDRINUSE"}, {"103", "ECONNABORTED"},
            {"104", "ECONNRESET"}, {"105", "ENOBUFS"}, {"108", "ESHUTDOWN"}, {"110", "ETIMEDOUT"},
            {"122", "EDQUOT"}, {"125", "ECANCELED"},
        };
        for (String[] k : known) NAMES[Integer.parseInt(k[0])] = k[1];
    }

    private Errno() {}

    /** "EINVAL" for 22 (sign ignored), or "errno 123" when there is no name for it here. */
    public static String name(int errno) {
        int e = Math.abs(errno);
        return e < NAMES.length && NAMES[e] != null ? NAMES[e] : "errno " + e;
    }

    /** The errno for a name such as "EIO" (any case), or -1 when unknown. */
    public static int byName(String name) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i] != null && NAMES[i].equalsIgnoreCase(name)) return i;
        }
        return -1;
    }
}
