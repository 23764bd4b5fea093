package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.log.LogFormat;
import dev.ublkgateway.core.log.LogLevel;
import dev.ublkgateway.core.log.LogSetup;
import dev.ublkgateway.core.runtime.Gateway;
import picocli.CommandLine.Option;

import java.util.List;

/** Whether a command that starts a gateway serves in the background or here, and how it logs: a mixin of `up` and `recover`. */
final class Serving {
    @Option(names = "--foreground", description = "serve in this process until SIGINT/SIGTERM")
    boolean foreground;

    @Option(names = "--log-level", paramLabel = "error|warn|info|debug", defaultValue = "info",
            description = "log this level and above (default: ${DEFAULT-VALUE}); debug adds stack traces")
    LogLevel logLevel = LogLevel.INFO;

    @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
            description = "text lines, or one JSON object per line with time, level, logger, message and device "
                    + "(default: ${DEFAULT-VALUE})")
    LogFormat logFormat = LogFormat.TEXT;

    /** Logs as asked from here on. */
    void applyLogging() {
        LogSetup.apply(logLevel, logFormat);
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
        return List.of("--log-level", logLevel.name().toLowerCase(java.util.Locale.ROOT),
                "--log-format", logFormat.name().toLowerCase(java.util.Locale.ROOT));
    }

    /** Serves here, the devices being up, until SIGINT/SIGTERM. */
    static int untilStopped(Gateway gateway) throws InterruptedException {
        System.out.flush();
        gateway.awaitStop();
        return 0;
    }
}
