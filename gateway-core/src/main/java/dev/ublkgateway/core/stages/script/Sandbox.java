package dev.ublkgateway.core.stages.script;

import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.EnvironmentAccess;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.PolyglotAccess;
import org.graalvm.polyglot.io.IOAccess;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The engine and context settings of every script: a context sees the JavaScript language and the
 * {@code gateway} object, nothing of the host (no Java classes, files, network, processes, threads,
 * environment or native code).
 */
final class Sandbox {
    private static final Logger LOG = Logger.getLogger(Sandbox.class.getName());

    private Sandbox() {}

    /**
     * A new engine. Without the Graal compiler on the JVM the engine interprets (its warning about that
     * is turned off: that is the expected setup on a stock JDK); with it, hot scripts are compiled.
     */
    static Engine newEngine() {
        return Engine.newBuilder("js")
                .option("engine.WarnInterpreterOnly", "false")
                .out(OutputStream.nullOutputStream())
                .err(OutputStream.nullOutputStream())
                .logHandler(new Handler() {
                    @Override
                    public void publish(LogRecord r) {
                        LOG.log(r.getLevel().intValue() >= Level.WARNING.intValue() ? Level.WARNING : Level.FINE,
                                "script engine: " + r.getMessage());
                    }

                    @Override
                    public void flush() {}

                    @Override
                    public void close() {}
                })
                .build();
    }

    /** A context of {@code engine} with every host access denied. */
    static Context newContext(Engine engine) {
        return Context.newBuilder("js")
                .engine(engine)
                .allowHostAccess(HostAccess.NONE)
                .allowHostClassLookup(name -> false)
                .allowHostClassLoading(false)
                .allowIO(IOAccess.NONE)
                .allowCreateThread(false)
                .allowCreateProcess(false)
                .allowNativeAccess(false)
                .allowEnvironmentAccess(EnvironmentAccess.NONE)
                .allowPolyglotAccess(PolyglotAccess.NONE)
                .allowInnerContextOptions(false)
                .allowValueSharing(false)
                .option("js.esm-eval-returns-exports", "true")
                .option("js.load", "false")
                .option("js.print", "false")
                .in(new ByteArrayInputStream(new byte[0]))
                .out(OutputStream.nullOutputStream())
                .err(OutputStream.nullOutputStream())
                .build();
    }
}
