package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.FileTargetConfig;
import dev.ublkgateway.core.config.MemoryTargetConfig;
import dev.ublkgateway.core.config.NullTargetConfig;
import dev.ublkgateway.core.target.FileTarget;
import dev.ublkgateway.core.target.MemoryTarget;
import dev.ublkgateway.core.target.NullTarget;

import java.io.IOException;

/** Opens the target a device's configuration names. */
public final class Targets {
    private Targets() {}

    /**
     * Opens the target of {@code device}. A fresh start ({@code recovering} false) begins with an empty
     * memory target even if a crashed gateway left its backing file behind.
     */
    public static Target open(DeviceConfig device, boolean recovering) throws IOException {
        Object config = device.target().config();
        if (config instanceof MemoryTargetConfig && !recovering) {
            java.nio.file.Files.deleteIfExists(MemoryTarget.defaultFile(device.name()));
        }
        return switch (config) {
            case NullTargetConfig n -> new NullTarget();
            case MemoryTargetConfig m -> new MemoryTarget(MemoryTarget.defaultFile(device.name()), device.sizeBytes());
            case FileTargetConfig f -> new FileTarget(f.file(), device.sizeBytes(), f.direct(), f.useFsync(), f.create());
            default -> throw new IOException("device " + device.name() + ": target type \"" + device.target().type()
                    + "\" has no implementation");
        };
    }

    /** Short description for logs: "file /srv/a.img (direct)". */
    public static String describe(DeviceConfig device) {
        Object config = device.target().config();
        if (config instanceof FileTargetConfig f) return "file " + f.file() + (f.direct() ? " (direct)" : "");
        return device.target().type();
    }
}
