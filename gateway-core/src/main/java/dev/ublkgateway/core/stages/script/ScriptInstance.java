package dev.ublkgateway.core.stages.script;

import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.SourceSection;
import org.graalvm.polyglot.Value;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One version of a script evaluated in its own sandboxed context, with its hooks bound. Used by one
 * thread at a time (a queue thread, or the device's control thread).
 */
final class ScriptInstance implements AutoCloseable {
    /** Time budget for evaluating the script's top-level code. */
    static final long INIT_BUDGET_NANOS = 30_000_000_000L;

    final Context context;
    final Watchdog.Guard guard;
    final Value request, flush, tick, attach, detach;
    final long generation;

    private ScriptInstance(Context context, Watchdog.Guard guard, Value bound, long generation) {
        this.context = context;
        this.guard = guard;
        this.request = member(bound, "request");
        this.flush = member(bound, "flush");
        this.tick = member(bound, "tick");
        this.attach = member(bound, "attach");
        this.detach = member(bound, "detach");
        this.generation = generation;
    }

    private static Value member(Value bound, String name) {
        Value v = bound.getMember(name);
        return v == null || v.isNull() || !v.canExecute() ? null : v;
    }

    /** A module source for a script's text; {@code name} appears in messages and stack traces. */
    static Source source(String text, String name) {
        return Source.newBuilder("js", text, name).mimeType("application/javascript+module").cached(true).buildLiteral();
    }

    /**
     * Evaluates {@code source} in a new context of {@code engine} and binds its hooks.
     *
     * @param queue the queue the context serves, -1 for the device's control context
     * @throws ScriptException when the script does not parse, throws at the top level, runs over its
     *     time budget there, or exports no usable hook
     */
    static ScriptInstance open(Engine engine, Source source, String text, DeviceScope scope, int queue,
                               String deviceJson, long budgetNanos, long generation) throws ScriptException {
        Context context = Sandbox.newContext(engine);
        Watchdog.Guard guard = Watchdog.guard(context, budgetNanos);
        try {
            // the prelude is our own code, and parsing ends by itself: only the script's top-level code
            // runs under the time budget (on a slow machine the engine's first start takes a while)
            Value binder = context.eval(Prelude.SOURCE).execute(new HostApi(scope), deviceJson, queue);
            context.parse(source);
            Value ns;
            guard.arm(INIT_BUDGET_NANOS);
            try {
                ns = context.eval(source);
            } finally {
                guard.disarm();
            }
            List<ScriptProblem> problems = checkExports(ns, text, binder.getMember("kindOf"));
            if (!problems.isEmpty()) throw new ScriptException(source.getName(), problems);
            Value bound = binder.execute(ns);
            return new ScriptInstance(context, guard, bound, generation);
        } catch (PolyglotException e) {
            guard.close();
            closeQuietly(context);
            if (guard.fired()) {
                throw new ScriptException(source.getName(), List.of(new ScriptProblem(0, 0,
                        "the top-level code ran longer than " + INIT_BUDGET_NANOS / 1_000_000_000L
                                + " s; move work into the hooks")));
            }
            throw new ScriptException(source.getName(), List.of(problem(e, source.getName(), true)));
        } catch (ScriptException | RuntimeException e) {
            guard.close();
            closeQuietly(context);
            throw e;
        }
    }

    private static List<ScriptProblem> checkExports(Value ns, String text, Value kindOf) {
        List<ScriptProblem> problems = new ArrayList<>();
        int hooks = 0;
        for (String key : ns.getMemberKeys()) {
            Value v = ns.getMember(key);
            if (Prelude.HOOKS.contains(key)) {
                String kind = v.canExecute() ? kindOf.execute(v).asString() : "";
                if (kind.startsWith("Async") || kind.equals("GeneratorFunction")) {
                    // its result would be a Promise or an iterator, never a verdict
                    int[] at = locate(text, key);
                    problems.add(new ScriptProblem(at[0], at[1], "export " + key + " is "
                            + (kind.startsWith("Async") ? "an async" : "a generator") + " function; hooks run"
                            + " synchronously and their result is needed at once, so make it a plain function"
                            + " (no async, await or yield)"));
                } else if (v.canExecute()) {
                    hooks++;
                } else {
                    int[] at = locate(text, key);
                    problems.add(new ScriptProblem(at[0], at[1], "export " + key + " is not a function;"
                            + " export it as a function, e.g. export function " + key + "(...) { ... }"));
                }
            } else if (key.startsWith("on") && v.canExecute()) {
                int[] at = locate(text, key);
                String near = closest(key);
                problems.add(new ScriptProblem(at[0], at[1], "export " + key + " is not a hook; "
                        + (near != null ? "did you mean " + near + "? " : "")
                        + "hooks are " + String.join(", ", Prelude.HOOKS)));
            }
        }
        if (hooks == 0 && problems.isEmpty()) {
            problems.add(new ScriptProblem(1, 1, "the script exports no hook; export at least one of "
                    + String.join(", ", Prelude.HOOKS) + ", e.g. export function onRequest(req) { ... }"));
        }
        return problems;
    }

    private static String closest(String key) {
        String best = null;
        int bestDistance = 4;
        for (String h : Prelude.HOOKS) {
            int d = distance(key.toLowerCase(Locale.ROOT), h.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = h;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** Line and column of the export of {@code name} in the text, else of its first mention, else 1:1. */
    private static int[] locate(String text, String name) {
        Matcher m = Pattern.compile("export\\s+(?:async\\s+)?(?:function\\s*\\*?\\s*|const\\s+|let\\s+|var\\s+)"
                + Pattern.quote(name) + "\\b").matcher(text);
        int at = m.find() ? m.start() : -1;
        if (at < 0) {
            Matcher any = Pattern.compile("\\b" + Pattern.quote(name) + "\\b").matcher(text);
            at = any.find() ? any.start() : -1;
        }
        if (at < 0) return new int[] {1, 1};
        int line = 1, col = 1;
        for (int i = 0; i < at; i++) {
            if (text.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new int[] {line, col};
    }

    /**
     * A problem for a guest exception: its position in the script (the innermost frame of the script's
     * own source) and its message without the engine's location prefix.
     */
    static ScriptProblem problem(PolyglotException e, String scriptName, boolean loading) {
        int line = 0, col = 0;
        SourceSection at = e.getSourceLocation();
        if (at != null && at.getSource() != null && scriptName.equals(at.getSource().getName()) && at.hasLines()) {
            line = at.getStartLine();
            col = at.hasColumns() ? at.getStartColumn() : 1;
        } else {
            for (PolyglotException.StackFrame f : e.getPolyglotStackTrace()) {
                SourceSection s = f.getSourceLocation();
                if (s != null && s.getSource() != null && scriptName.equals(s.getSource().getName()) && s.hasLines()) {
                    line = s.getStartLine();
                    col = s.hasColumns() ? s.getStartColumn() : 1;
                    break;
                }
            }
        }
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        // the engine prefixes syntax errors with "SyntaxError: name:line:column " and appends the source line
        if (e.isSyntaxError()) {
            int nl = msg.indexOf('\n');
            if (nl > 0) msg = msg.substring(0, nl);
            msg = msg.replaceFirst("^SyntaxError: ", "").replaceFirst("^" + Pattern.quote(scriptName) + ":\\d+:\\d+ ", "");
        }
        msg = msg.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
        String fix;
        if (e.isSyntaxError()) {
            fix = "fix the syntax";
        } else if (e.isInterrupted() || e.isCancelled()) {
            fix = "make the hook return sooner or raise timeout-ms";
        } else if (loading) {
            fix = "fix the script's top-level code";
        } else {
            fix = "fix the hook";
        }
        if (e.isSyntaxError()) msg = "syntax error: " + msg;
        return new ScriptProblem(line, col, msg + "; " + fix);
    }

    static void closeQuietly(Context c) {
        try {
            c.close(true);
        } catch (RuntimeException ignored) {
            // closing a broken context: nothing more to do
        }
    }

    @Override
    public void close() {
        guard.close();
        closeQuietly(context);
    }

    static final Set<String> HOOK_SET = Set.copyOf(Prelude.HOOKS);
}
