package dev.ublkgateway.core.frontend.ublk;

import dev.ublkgateway.api.Capabilities;

/**
 * How a ublk device's request bytes travel between the kernel and its target, chosen at ADD_DEV from
 * what the chain declares and read back from the flags the kernel kept (a kernel drops the flags it
 * does not know, so a 6.12 kernel asked for AUTO_BUF_REG simply copies).
 */
public enum DataPath {
    /** The kernel copies every request's bytes to or from a per-tag buffer of ours. */
    COPY("copy"),
    /** No bytes move at all: the chain never looks at them (USER_COPY that is never used). */
    NONE("none (the target needs no data)"),
    /**
     * The kernel registers each request's own pages in the queue ring's buffer table (AUTO_BUF_REG) and the
     * target reads and writes them with READ_FIXED / WRITE_FIXED: no copy through user space.
     */
    ZERO_COPY("zero-copy (AUTO_BUF_REG)");

    private final String label;

    DataPath(String label) {
        this.label = label;
    }

    /** What `up`, `list` and `features` print. */
    public String label() {
        return label;
    }

    /**
     * The data-path flags to ask ADD_DEV for. Zero copy needs a target that can work on registered buffers
     * and stages that never touch the bytes (both in {@link Capabilities#zeroCopy}); {@code allowZeroCopy}
     * false keeps the copying path anyway (the device's {@code zero-copy: false}).
     */
    public static long requestFlags(Capabilities chain, boolean needsData, boolean allowZeroCopy) {
        if (!needsData) return Uapi.F_USER_COPY;
        return allowZeroCopy && chain.zeroCopy() ? Uapi.F_AUTO_BUF_REG : 0;
    }

    /** The path of a device the kernel created with these flags. */
    public static DataPath of(long deviceFlags) {
        if ((deviceFlags & Uapi.F_AUTO_BUF_REG) != 0) return ZERO_COPY;
        if ((deviceFlags & Uapi.F_USER_COPY) != 0) return NONE;
        return COPY;
    }
}
