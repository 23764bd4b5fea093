package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.config.TargetTypes;
import dev.ublkgateway.core.nativ.Libc;
import dev.ublkgateway.core.ublk.UblkException;

import java.nio.file.Path;

/** Checks shared by the commands. */
final class Common {
    private Common() {}

    static GatewayConfig load(Path file) {
        return ConfigLoader.load(file, TargetTypes.builtIn());
    }

    static void requireRoot(String command) throws UblkException {
        if (Libc.geteuid() != 0) {
            throw new UblkException("`" + command + "` needs root to manage ublk devices; run it as root (e.g. sudo)");
        }
    }
}
