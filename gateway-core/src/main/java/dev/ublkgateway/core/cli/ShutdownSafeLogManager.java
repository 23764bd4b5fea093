package dev.ublkgateway.core.cli;

import java.util.logging.LogManager;

/**
 * The JDK's LogManager closes every handler in its own shutdown hook, which can run before ours: the
 * lines that report devices being stopped on SIGTERM would be lost. This one keeps handlers open until
 * the JVM is gone.
 */
public final class ShutdownSafeLogManager extends LogManager {
    @Override
    public void reset() {
        // Called by the JDK's shutdown hook; ignored so shutdown logging still works.
    }
}
