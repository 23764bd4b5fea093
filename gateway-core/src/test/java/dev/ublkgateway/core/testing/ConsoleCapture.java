package dev.ublkgateway.core.testing;

import dev.ublkgateway.core.log.LogFormat;
import dev.ublkgateway.core.log.LogLevel;
import dev.ublkgateway.core.log.LogSetup;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * What a CLI command prints, for tests that run it in-process ({@code Main.run}): stdout and stderr are
 * captured for each test, and the log points at the captured stderr as {@code main()} would set it up.
 * Register with {@code @RegisterExtension final ConsoleCapture console = new ConsoleCapture();}.
 */
public final class ConsoleCapture implements BeforeEachCallback, AfterEachCallback {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    private final boolean logToCapture;
    private PrintStream oldOut, oldErr;

    /** Commands that set up logging themselves (`up`, `down`, ...) point it at the captured stderr. */
    public ConsoleCapture() {
        this(false);
    }

    /** @param logToCapture the log goes to the captured stderr from the start, as main() sets it up */
    public ConsoleCapture(boolean logToCapture) {
        this.logToCapture = logToCapture;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        if (logToCapture) LogSetup.apply(LogLevel.INFO, LogFormat.TEXT);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        System.setOut(oldOut);
        System.setErr(oldErr);
        // a command may have pointed the log at the captured stderr: back to the real one
        LogSetup.apply(LogLevel.INFO, LogFormat.TEXT);
    }

    public String out() {
        return out.toString();
    }

    public String err() {
        return err.toString();
    }

    public List<String> outLines() {
        return out().lines().toList();
    }

    public List<String> errLines() {
        return err().lines().toList();
    }

    /** Forgets what was printed so far, before the next command of the same test. */
    public void reset() {
        out.reset();
        err.reset();
    }

    /** The error a failed command printed, which must be one line and no stack trace. */
    public String errLine() {
        String e = err().strip();
        assertFalse(e.contains("\n"), "expected one line, got: " + e);
        assertFalse(e.contains("Exception"), e);
        return e;
    }
}
