package dev.ublkgateway.core.frontend.ublk;

import java.util.Optional;

/**
 * What a non-root user may do with ublk (UBLK_F_UNPRIVILEGED_DEV), and the one-line refusals for the
 * rest. The kernel checks such a user's commands against the owner of /dev/ublkcN, which the udev
 * rule in udev/ hands to the user who created the device; it keeps no such device for recovery.
 */
public final class Unprivileged {
    /** Where the README explains the set-up, for the refusals. */
    static final String SEE = "see README \"Unprivileged devices\"";

    private Unprivileged() {}

    /** The refusal when /dev/ublk-control cannot be opened by a non-root user. */
    public static String controlDenied() {
        return "permission denied on " + Uapi.CONTROL_DEVICE + ": a non-root user needs the group it belongs to "
                + "(`ublk` with the udev rule in udev/; " + SEE + "), or run as root (e.g. with sudo)";
    }

    /** Why a non-root user cannot create ublk devices on a kernel with these features, if they cannot. */
    public static Optional<String> kernelRefusal(long features) {
        if ((features & Uapi.F_UNPRIVILEGED_DEV) != 0) return Optional.empty();
        return Optional.of("this kernel's ublk driver does not create devices for non-root users (it needs "
                + "UNPRIVILEGED_DEV, reported by Linux >= 6.5); run as root (e.g. with sudo), or serve the device over "
                + "NBD (--frontend nbd)");
    }

    /** Why a non-root user cannot create this device, if they cannot: the kernel drops recovery for them. */
    public static Optional<String> deviceRefusal(String name, boolean recovery) {
        if (!recovery) return Optional.empty();
        return Optional.of("device " + name + ": recovery: true needs root (the kernel keeps no device of a non-root "
                + "user for recovery); set recovery: false, or run `up` as root (e.g. with sudo)");
    }

    /** The refusal of `recover` for a non-root user. */
    public static String recoverRefused() {
        return "`recover` needs root: devices of non-root users are created without recovery, and only root "
                + "may re-attach another user's device; run it as root (e.g. sudo)";
    }

    /** The kernel refused a non-root user's command on device {@code id}: it is not theirs. */
    public static String notYours(int id, String command) {
        return "ublk device " + id + " belongs to another user (the kernel checks the owner of "
                + Uapi.charDevice(id) + "); only its owner or root may " + command + " it: run `sudo ublk-gateway "
                + command + " " + id + "`";
    }

    /** The char device of a new device stayed root's: nothing gave it to its creator, who cannot remove it either. */
    public static String nodeNotHandedOver(int id, int waitedSeconds) {
        return "cannot open " + Uapi.charDevice(id) + ": permission denied for " + waitedSeconds + " s; the udev rule "
                + "that gives the nodes of a non-root user's device to that user is not installed (" + SEE
                + "); root removes the device left behind with `sudo ublk-gateway down " + id + "`";
    }
}
