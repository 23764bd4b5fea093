package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.log.LogFormat;
import dev.ublkgateway.core.log.LogLevel;
import dev.ublkgateway.core.log.LogSetup;
import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.SystemdNotify;
import picocli.CommandLine.Option;

import java.util.List;

/** Whether a command that starts a gateway serves in the background or here, and how it logs: a mixin of `up` and `recover`. */
final class Serving {
    @Option(names = "--foreground", description = "serve in this process until SIGINT/SIGTERM")
    boolean foreground;

    @Option(names = "--log-level", paramLabel = "error|warn|info|debug",
            description = "log this level and above (default: the file's log-level:, else info); debug adds stack traces")
    LogLevel logLevel;

    @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
            description = "text lines, or one JSON object per line with time, level, logger, message and device "
                    + "(default: ${DEFAULT-VALUE})")
    LogFormat logFormat = LogFormat.TEXT;

    /** Logs as asked from here on, before the file is read. */
    void applyLogging() {
        LogSetup.apply(logLevel == null ? LogLevel.INFO : logLevel, logFormat);
    }

    /** Logs as asked, the option winning over the file's log-level:. */
    void applyLogging(GatewayConfig config) {
        LogSetup.apply(logLevel != null ? logLevel : config.logLevel().orElse(LogLevel.INFO), logFormat);
    }

    /**
     * Prints a result of serving here ("NAME: /dev/ublkb0"). In JSON the log already says it, and output
     * collected with the log must stay one JSON object per line.
     */
    void result(String line) {
        if (logFormat != LogFormat.JSON) System.out.println(line);
    }

    /** The options that make a background gateway log the same way. */
    List<String> logArguments() {
        List<String> args = new java.util.ArrayList<>(List.of("--log-format", logFormat.name().toLowerCase(java.util.Locale.ROOT)));
        // without the option the background gateway reads the file's log-level: itself
        if (logLevel != null) args.addAll(List.of("--log-level", logLevel.name().toLowerCase(java.util.Locale.ROOT)));
        return args;
    }

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
        gateway.onHandOff(systemd::handOff); // after a reload the successor is the unit's main process
        gateway.awaitStop();
        systemd.stopping(); // nothing after a hand-off
        return 0;
    }
}
