package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.MetricsSource;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.core.log.LimitedLog;
import dev.ublkgateway.core.log.LogText;
import dev.ublkgateway.core.stages.RateLimitStage;
import dev.ublkgateway.core.stages.ReadOnlyStage;
import dev.ublkgateway.core.stages.StatsStage;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;

/**
 * A device's JavaScript policy hook, placed before the device's other stages. Each queue runs the
 * script in its own sandboxed context (opened on the queue's thread); all contexts share one engine,
 * so the code is parsed once. A control thread per device runs {@code onAttach}, {@code onTick} and
 * {@code onDetach} in a context of its own, and watches the file: a changed script is checked and, if
 * good, every queue switches to it before its next request; a broken one is logged and ignored.
 */
public final class ScriptStage implements BlockStage, MetricsSource {
    static final long RELOAD_POLL_NANOS = 500_000_000L;
    private static final Set<String> REQUEST_HOOKS = Set.of("onRequest", "onFlush");

    final ScriptConfig config;
    final DeviceScope scope;
    final Engine engine;
    final long budgetNanos;
    private final String deviceJson;
    private final List<HookQueue> queues = new CopyOnWriteArrayList<>();
    private volatile Version version;
    private final Thread control;
    private volatile boolean stopping;
    private final LimitedLog failureLog = new LimitedLog(1, 1000, "failures");
    private ScriptInstance controlInstance; // used by the control thread only (and the constructor before it starts)
    private FileStamp seen;
    // for the metrics endpoint: the counts of closed queues (guarded by themselves), and the control hooks'
    // calls and failures by Watchdog.Guard id (written by the control thread only)
    private final long[][] retired = new long[3][2];
    private final long[] controlCalls = new long[5], controlErrors = new long[5];

    /** One version of the script file. */
    record Version(long generation, Source source, String text, boolean measures) {}

    private record FileStamp(long modified, long size, Object key) {
        static FileStamp of(Path p) {
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                return new FileStamp(a.lastModifiedTime().toMillis(), a.size(), a.fileKey());
            } catch (IOException e) {
                return new FileStamp(-1, -1, null);
            }
        }
    }

    /**
     * Loads the script and runs its {@code onAttach}. The device's rate-limit and read-only stages (the
     * first of each in {@code stages}) are what {@code gateway.setRateLimit} and
     * {@code gateway.setReadOnly} change; without a read-only stage the hook refuses writes itself.
     *
     * @throws IOException naming the script, line and column when it cannot be used
     */
    public ScriptStage(ScriptConfig config, DeviceDescriptor device, List<BlockStage> stages) throws IOException {
        this.config = config;
        RateLimitStage rl = null;
        ReadOnlyStage ro = null;
        StatsStage st = null;
        for (BlockStage s : stages) {
            if (rl == null && s instanceof RateLimitStage r) rl = r;
            if (ro == null && s instanceof ReadOnlyStage r) ro = r;
            if (st == null && s instanceof StatsStage r) st = r;
        }
        this.scope = new DeviceScope(device.name(), config.shownPath(), rl, ro);
        this.budgetNanos = TimeUnit.MILLISECONDS.toNanos(config.timeoutMs());
        this.deviceJson = "{\"name\":" + HostApi.quote(device.name()) + ",\"size\":" + device.sizeBytes()
                + ",\"blockSize\":" + device.blockSize() + ",\"queues\":" + device.queues() + "}";
        this.engine = Sandbox.newEngine();
        try {
            seen = FileStamp.of(config.path());
            String text = ScriptChecker.read(config.path());
            Source source = ScriptInstance.source(text, config.shownPath());
            controlInstance = ScriptInstance.open(engine, source, text, scope, -1, deviceJson, budgetNanos, 1);
            version = new Version(1, source, text, controlInstance.tick != null);
            callControl("onAttach", Watchdog.Guard.ATTACH, controlInstance, controlInstance.attach, null);
        } catch (ScriptException e) {
            engine.close();
            throw new IOException("device " + device.name() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            engine.close();
            throw new IOException("device " + device.name() + ": " + config.shownPath() + ": " + e.getMessage(), e);
        }
        if (st != null) st.tags(this::tagCounts); // requests the script tagged show in the device's stats
        control = Thread.ofPlatform().daemon().name("script-" + device.name()).start(this::controlLoop);
    }

    /** Requests tagged so far, per tag name, over all queues. */
    Map<String, Long> tagCounts() {
        List<String> names = scope.tagNames();
        Map<String, Long> out = new TreeMap<>();
        for (int i = 1; i < names.size(); i++) {
            long n = 0;
            for (HookQueue q : queues) n += q.tagged[i];
            out.put(names.get(i), n);
        }
        return out;
    }

    public ScriptConfig config() {
        return config;
    }

    Version version() {
        return version;
    }

    String deviceJson() {
        return deviceJson;
    }

    /**
     * Hooks see a request's op, offset and length, never its bytes. Not multi-conn safe: each queue runs
     * its own script context, whose state (counters, tags a hook keeps) another connection would not see.
     */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, Capabilities.DataAccess.NONE, false);
    }

    @Override
    public StageQueue openQueue(QueueContext queue) throws IOException {
        HookQueue q = new HookQueue(this, queue);
        queues.add(q);
        return q;
    }

    /** Forgets a closed queue, keeping its hook counts (counters never go down). */
    void closed(HookQueue q) {
        synchronized (retired) {
            if (!queues.remove(q)) return;
            for (int h = 0; h < 2; h++) {
                retired[0][h] += q.hookCalls[h];
                retired[1][h] += q.hookDenied[h];
                retired[2][h] += q.hookErrors[h];
            }
        }
    }

    /**
     * The hooks' calls by outcome: a request hook allowed its request, denied it (a negative errno), or
     * failed (threw, or ran over its budget); a control hook ran or failed.
     */
    @Override
    public void reportMetrics(MetricsSink sink) {
        long[][] n = new long[3][2];
        synchronized (retired) {
            for (int i = 0; i < 3; i++) {
                for (int h = 0; h < 2; h++) n[i][h] = retired[i][h];
            }
            for (HookQueue q : queues) {
                for (int h = 0; h < 2; h++) {
                    n[0][h] += q.hookCalls[h];
                    n[1][h] += q.hookDenied[h];
                    n[2][h] += q.hookErrors[h];
                }
            }
        }
        String help = "Calls of the script's hooks, by hook and outcome";
        String[] requestHooks = {"onRequest", "onFlush"};
        for (int h = 0; h < 2; h++) {
            sink.counter("script_hook_calls_total", help, Math.max(0, n[0][h] - n[1][h] - n[2][h]),
                    "hook", requestHooks[h], "outcome", "allowed");
            sink.counter("script_hook_calls_total", help, n[1][h], "hook", requestHooks[h], "outcome", "denied");
            sink.counter("script_hook_calls_total", help, n[2][h], "hook", requestHooks[h], "outcome", "error");
        }
        String[] controlHooks = {"onTick", "onAttach", "onDetach"};
        for (int i = 0; i < controlHooks.length; i++) {
            int id = Watchdog.Guard.TICK + i;
            long calls = controlCalls[id], errors = controlErrors[id];
            sink.counter("script_hook_calls_total", help, Math.max(0, calls - errors), "hook", controlHooks[i], "outcome", "ok");
            sink.counter("script_hook_calls_total", help, errors, "hook", controlHooks[i], "outcome", "error");
        }
    }

    /**
     * Logs a failed call, at most one line per second per device (the next line says how many were
     * not logged). What it meant depends on the hook: a request hook's failure decides its request, a
     * control hook ({@code onAttach}, {@code onTick}, {@code onDetach}) has no request to decide.
     */
    void failure(String hook, String detail) {
        String outcome = !REQUEST_HOOKS.contains(hook) ? "the device serves on; fix the hook"
                : config.failOpen() ? "fail-open: request allowed" : "fail-closed: request failed with EIO";
        failureLog.log(DeviceScope.LOG, Level.WARNING, "device " + scope.device + ": script " + LogText.oneLine(detail)
                + " in " + hook + " (" + outcome + ")");
    }

    /** The one-line description of a failed call: {@code file:line:column: message; fix}. */
    String describe(PolyglotException e, Watchdog.Guard guard) {
        if (guard.fired() || e.isInterrupted() || e.isCancelled()) {
            long ms = TimeUnit.NANOSECONDS.toMillis(guard.armedBudgetNanos());
            return config.shownPath() + ": ran over its time budget of " + ms + " ms"
                    + (ms == config.timeoutMs() ? "" : " (its first call's)");
        }
        return ScriptInstance.problem(e, config.shownPath(), false).format(config.shownPath());
    }

    private void callControl(String hook, int hookId, ScriptInstance inst, org.graalvm.polyglot.Value fn, String arg) {
        if (fn == null) return;
        controlCalls[hookId]++;
        inst.guard.armCall(hookId);
        try {
            if (arg == null) fn.executeVoid();
            else fn.executeVoid(arg);
        } catch (PolyglotException e) {
            controlErrors[hookId]++;
            inst.guard.disarm();
            failure(hook, describe(e, inst.guard));
        } finally {
            inst.guard.disarm();
        }
    }

    private void controlLoop() {
        long now = System.nanoTime();
        long tickNanos = TimeUnit.MILLISECONDS.toNanos(config.tickMs());
        long nextTick = now + tickNanos;
        long nextPoll = now + RELOAD_POLL_NANOS;
        TickStats stats = new TickStats(this);
        try {
            while (!stopping) {
                now = System.nanoTime();
                long wake = controlInstance.tick != null ? nextTick : Long.MAX_VALUE;
                if (config.reload()) wake = Math.min(wake, nextPoll);
                if (wake == Long.MAX_VALUE) wake = now + 1_000_000_000L;
                if (wake - now > 0) {
                    LockSupport.parkNanos(this, wake - now);
                    continue;
                }
                if (config.reload() && now - nextPoll >= 0) {
                    nextPoll = now + RELOAD_POLL_NANOS;
                    poll();
                }
                if (now - nextTick >= 0) {
                    nextTick += tickNanos;
                    if (nextTick - now < 0) nextTick = now + tickNanos; // fell behind: do not bunch up ticks
                    String json = stats.next(queues);
                    if (controlInstance.tick != null) callControl("onTick", Watchdog.Guard.TICK, controlInstance, controlInstance.tick, json);
                }
            }
        } catch (RuntimeException | Error e) {
            DeviceScope.LOG.log(Level.SEVERE, "device " + scope.device + ": script control thread stopped", e);
        } finally {
            callControl("onDetach", Watchdog.Guard.DETACH, controlInstance, controlInstance.detach, null);
            controlInstance.close();
        }
    }

    /** Checks the file for a change; a good new version replaces the current one everywhere. */
    private void poll() {
        FileStamp now = FileStamp.of(config.path());
        if (now.equals(seen)) return;
        seen = now;
        String text;
        try {
            text = ScriptChecker.read(config.path());
        } catch (IOException e) {
            DeviceScope.LOG.warning("device " + scope.device + ": script " + config.shownPath() + " not reloaded: "
                    + e.getMessage() + "; the previous version keeps running");
            return;
        }
        Version current = version;
        if (text.equals(current.text())) return;
        Source source = ScriptInstance.source(text, config.shownPath());
        long generation = current.generation() + 1;
        ScriptInstance next;
        try {
            next = ScriptInstance.open(engine, source, text, scope, -1, deviceJson, budgetNanos, generation);
        } catch (ScriptException e) {
            DeviceScope.LOG.severe("device " + scope.device + ": script not reloaded, the previous version keeps running: "
                    + LogText.oneLine(String.join(" | ", e.problems().stream().map(p -> p.format(config.shownPath())).toList())));
            return;
        }
        ScriptInstance old = controlInstance;
        controlInstance = next;
        old.close();
        // the new version's onAttach runs before any queue switches to it, so its onRequest sees what it set up
        callControl("onAttach", Watchdog.Guard.ATTACH, next, next.attach, null);
        version = new Version(generation, source, text, next.tick != null);
        DeviceScope.LOG.info("device " + scope.device + ": script " + config.shownPath() + " reloaded (version "
                + generation + ")");
    }

    /** Stops the control thread (running {@code onDetach}) and closes the engine; the queues are closed by now. */
    @Override
    public void close() {
        stopping = true;
        LockSupport.unpark(control);
        try {
            control.join(TimeUnit.NANOSECONDS.toMillis(budgetNanos) + 5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (HookQueue q : queues) q.close();
        try {
            engine.close();
        } catch (RuntimeException e) {
            DeviceScope.LOG.log(Level.FINE, "closing the script engine", e);
        }
    }

    /** Script counters of the device (what {@code gateway.count} added), for reports. */
    public Map<String, Long> counters() {
        return new TreeMap<>(scope.counters());
    }

    List<HookQueue> queues() {
        return queues;
    }
}
