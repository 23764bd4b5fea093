package dev.ublkgateway.core.stages.script;

import org.graalvm.polyglot.Engine;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Checks a script file the way the gateway will load it: it must be readable, parse as a JavaScript
 * module, run its top-level code without error, and export at least one hook (and nothing that looks
 * like a misspelt hook). Used by {@code validate} and {@code up} through the configuration loader.
 */
public final class ScriptChecker {
    private ScriptChecker() {}

    /** The script's problems; empty when it is usable. */
    public static List<ScriptProblem> check(Path file) {
        return check(file, file.toString());
    }

    /** As {@link #check(Path)}; {@code shownName} is the name used for the script in messages. */
    public static List<ScriptProblem> check(Path file, String shownName) {
        String text;
        try {
            text = read(file);
        } catch (IOException e) {
            return List.of(new ScriptProblem(0, 0, e.getMessage()));
        }
        try (Engine engine = Sandbox.newEngine()) {
            DeviceScope scope = new DeviceScope("validate", shownName, null, null);
            try (ScriptInstance ignored = ScriptInstance.open(engine, ScriptInstance.source(text, shownName), text, scope,
                    -1, "{\"name\":\"validate\",\"size\":0,\"blockSize\":4096,\"queues\":1}", ScriptInstance.INIT_BUDGET_NANOS, 0)) {
                return List.of();
            } catch (ScriptException e) {
                return e.problems();
            }
        }
    }

    /** The text of a script file, with the reason as a one-line message ending in a fix when it cannot be read. */
    static String read(Path file) throws IOException {
        try {
            String text = Files.readString(file);
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (NoSuchFileException e) {
            throw new IOException("cannot read the script (no such file); check the path", e);
        } catch (AccessDeniedException e) {
            throw new IOException("cannot read the script (permission denied); check its permissions", e);
        } catch (CharacterCodingException e) {
            throw new IOException("the script is not valid UTF-8; save it as UTF-8", e);
        } catch (IOException e) {
            throw new IOException("cannot read the script (" + e.getMessage() + "); check the path", e);
        }
    }
}
