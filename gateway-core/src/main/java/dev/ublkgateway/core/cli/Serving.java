package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.SystemdNotify;
import picocli.CommandLine.Option;

/** Whether a command that starts a gateway serves in the background or here: a mixin of `up` and `recover`. */
final class Serving {
    @Option(names = "--foreground", description = "serve in this process until SIGINT/SIGTERM")
    boolean foreground;

    /**
     * Serves here, the devices being up, until SIGINT/SIGTERM; under systemd (Type=notify) tells it
     * READY=1 with {@code status}, feeds its watchdog meanwhile and says STOPPING=1 at the end.
     */
    static int untilStopped(Gateway gateway, String status) throws InterruptedException {
        System.out.flush();
        SystemdNotify systemd = SystemdNotify.fromEnvironment();
        if (systemd.enabled()) {
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("systemd-stopping").unstarted(systemd::stopping));
        }
        systemd.ready(status);
        gateway.awaitStop();
        systemd.stopping();
        return 0;
    }
}
