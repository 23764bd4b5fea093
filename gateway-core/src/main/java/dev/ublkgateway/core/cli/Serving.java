package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.runtime.Gateway;
import picocli.CommandLine.Option;

/** Whether a command that starts a gateway serves in the background or here: a mixin of `up` and `recover`. */
final class Serving {
    @Option(names = "--foreground", description = "serve in this process until SIGINT/SIGTERM")
    boolean foreground;

    /** Serves here, the devices being up, until SIGINT/SIGTERM. */
    static int untilStopped(Gateway gateway) throws InterruptedException {
        System.out.flush();
        gateway.awaitStop();
        return 0;
    }
}
