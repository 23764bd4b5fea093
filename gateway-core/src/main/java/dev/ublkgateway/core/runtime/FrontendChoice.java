package dev.ublkgateway.core.runtime;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.frontend.ublk.Uapi;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.frontend.ublk.Unprivileged;
import dev.ublkgateway.core.sys.Caller;

import java.nio.file.Files;
import java.nio.file.Path;

/** Which frontend serves a device: its {@code frontend:} (ublk, nbd or auto) or the {@code up --frontend} override. */
public final class FrontendChoice {
    private static final Path UBLK_CONTROL = Path.of(Uapi.CONTROL_DEVICE);

    private FrontendChoice() {}

    /**
     * True when this process can serve ublk devices: the driver is loaded and we are root, or we may open
     * its control device and the kernel creates devices for non-root users.
     */
    public static boolean ublkAvailable() {
        if (!Files.exists(UBLK_CONTROL)) return false;
        return Caller.isRoot() || unprivilegedAvailable();
    }

    private static boolean unprivilegedAvailable() {
        try (UblkControl c = UblkControl.open()) {
            return Unprivileged.kernelRefusal(c.features()).isEmpty();
        } catch (UblkException e) {
            return false;
        }
    }

    /** "ublk" or "nbd" for a device, applying {@code override} (ublk|nbd|auto, or null) over its YAML. */
    public static String of(DeviceConfig d, String override) {
        String f = override != null ? override : d.frontend().frontend();
        if (!f.equals("auto")) return f;
        return ublkAvailable() ? "ublk" : "nbd";
    }

    /** Why auto chose what it chose, for the user. */
    public static String autoReason() {
        if (ublkAvailable()) {
            return Caller.isRoot() ? UBLK_CONTROL + " exists and we are root"
                    : "this user may create unprivileged ublk devices";
        }
        if (!Files.exists(UBLK_CONTROL)) return UBLK_CONTROL + " is missing (ublk_drv not loaded)";
        return "ublk needs root, or the ublk group and a kernel with UNPRIVILEGED_DEV";
    }

    /** Checks an {@code --frontend} value. */
    public static String checkOverride(String f) {
        if (f == null || f.equals("ublk") || f.equals("nbd") || f.equals("auto")) return f;
        throw new IllegalArgumentException("--frontend " + f + " is not known; use ublk, nbd or auto");
    }
}
