package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.core.log.LimitedLog;
import dev.ublkgateway.core.log.LogText;
import dev.ublkgateway.core.stages.RateLimitStage;
import dev.ublkgateway.core.stages.ReadOnlyStage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What the scripts of one device share across its queues and across reloads: counters, state, tag
 * names, and the device's controls (its rate-limit and read-only stages, when it has them).
 */
final class DeviceScope {
    static final Logger LOG = Logger.getLogger("dev.ublkgateway.script");
    private static final int MAX_STATE_KEYS = 10_000, MAX_STATE_BYTES = 64 * 1024, MAX_COUNTERS = 10_000;
    /** Longest state key or counter name: with the counts above, what scripts keep here stays bounded. */
    static final int MAX_NAME_CHARS = 256;
    /** Script log lines per device: at most this many per window (the rest are counted, then reported). */
    static final int LOG_LINES = 100, LOG_WINDOW_MS = 10_000;

    final String device;
    final String script;
    private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();
    private final Map<String, String> state = new ConcurrentHashMap<>();
    private final List<String> tags = new CopyOnWriteArrayList<>(List.of(""));
    private final RateLimitStage rateLimit;
    private final ReadOnlyStage readOnlyStage;
    private final LimitedLog logLimit = new LimitedLog(LOG_LINES, LOG_WINDOW_MS, "log lines of the script");
    /** Read-only state kept by the hook itself when the device has no read-only stage. */
    volatile boolean readOnly;

    DeviceScope(String device, String script, RateLimitStage rateLimit, ReadOnlyStage readOnlyStage) {
        this.device = device;
        this.script = script;
        this.rateLimit = rateLimit;
        this.readOnlyStage = readOnlyStage;
    }

    /** True when the hook has to refuse writes itself (no read-only stage is there to do it). */
    boolean hookEnforcesReadOnly() {
        return readOnlyStage == null;
    }

    /**
     * A line from the script: on one line whatever it contains (no forged lines), cut at
     * {@link LogText#MAX_CHARS}, and at most {@link #LOG_LINES} per {@link #LOG_WINDOW_MS} per device.
     */
    void log(String level, String message) {
        Level l = switch (level) {
            case "error" -> Level.SEVERE;
            case "warn" -> Level.WARNING;
            default -> Level.INFO;
        };
        logLimit.log(LOG, l, "script " + script + " [" + device + "]: " + LogText.oneLine(message));
    }

    long count(String name, long by) {
        AtomicLong c = counters.get(name);
        if (c == null) {
            checkName("counter name", name);
            if (counters.size() >= MAX_COUNTERS) throw new IllegalStateException("too many counters (" + MAX_COUNTERS + ")");
            c = counters.computeIfAbsent(name, k -> new AtomicLong());
        }
        return c.addAndGet(by);
    }

    Map<String, Long> counters() {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    String stateGet(String key) {
        return state.get(key);
    }

    void stateSet(String key, String json) {
        checkName("state key", key);
        if (json.length() > MAX_STATE_BYTES) {
            throw new IllegalArgumentException("state value of \"" + key + "\" is larger than " + MAX_STATE_BYTES + " bytes as JSON");
        }
        if (!state.containsKey(key) && state.size() >= MAX_STATE_KEYS) {
            throw new IllegalStateException("too many state keys (" + MAX_STATE_KEYS + ")");
        }
        state.put(key, json);
    }

    private static void checkName(String what, String name) {
        if (name.length() > MAX_NAME_CHARS) {
            throw new IllegalArgumentException(what + " of " + name.length() + " characters is longer than "
                    + MAX_NAME_CHARS + "; use a shorter one");
        }
    }

    boolean stateDelete(String key) {
        return state.remove(key) != null;
    }

    List<String> stateKeys() {
        return new ArrayList<>(new java.util.TreeSet<>(state.keySet()));
    }

    /** The id of a tag name (1-based), registering it on first use. */
    synchronized int tag(String name) {
        int i = tags.indexOf(name);
        if (i > 0) return i;
        if (tags.size() >= Prelude.MAX_TAGS) {
            throw new IllegalStateException("too many tags (" + (Prelude.MAX_TAGS - 1) + ")");
        }
        tags.add(name);
        return tags.size() - 1;
    }

    List<String> tagNames() {
        return List.copyOf(tags);
    }

    void setRateLimit(long iops, long bytesPerSecond) {
        if (rateLimit == null) {
            throw new IllegalStateException("device " + device + " has no rate-limit stage; add one to its stages"
                    + " (e.g. - type: rate-limit with iops: 0 and bandwidth: 0 is not allowed, so give it a starting limit)");
        }
        rateLimit.setLimits(iops, bytesPerSecond);
    }

    /** {@code {"iops":N,"bandwidth":N}}, or {@code null} without a rate-limit stage. */
    String rateLimitJson() {
        return rateLimit == null ? "null"
                : "{\"iops\":" + rateLimit.iops() + ",\"bandwidth\":" + rateLimit.bytesPerSecond() + "}";
    }

    void setReadOnly(boolean on) {
        boolean before = readOnly();
        if (readOnlyStage != null) readOnlyStage.setEnabled(on);
        else readOnly = on;
        if (before != on) LOG.info("device " + device + ": script " + script + " made it " + (on ? "read-only" : "writable"));
    }

    boolean readOnly() {
        return readOnlyStage != null ? readOnlyStage.enabled() : readOnly;
    }
}
