package dev.ublkgateway.core.stats;

import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The documents `list --json` and `stats --json` print, with field names scripts can rely on (the
 * commands' help lists them). Sizes are bytes, latencies microseconds, rates per second.
 */
public final class StatsReport {
    private StatsReport() {}

    /** What is known of a served device without asking the kernel: device ... queues. */
    public static Map<String, Object> device(DeviceState s, String state) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", s.name());
        m.put("frontend", s.servedOverNbd() ? "nbd" : "ublk");
        m.put("id", s.servedOverNbd() ? null : s.devId());
        m.put("block_device", s.blockDevice());
        m.put("target", s.target());
        m.put("size_bytes", s.sizeBytes());
        m.put("state", state);
        m.put("pid", s.pid());
        m.put("queues", s.queues());
        return m;
    }

    /** "LIVE" while the device's gateway process runs, else "gone". */
    public static String liveness(DeviceState s) {
        return StateStore.alive(s.pid()) ? "LIVE" : "gone";
    }

    /** `stats --json`: the device, the time of the sample, per op the totals since the device came up. */
    public static Map<String, Object> totals(DeviceState s, StatsSample total) {
        Map<String, Object> m = device(s, liveness(s));
        m.put("time", Instant.ofEpochMilli(total.timeMs()).toString());
        Map<String, Object> ops = new LinkedHashMap<>();
        total.ops().forEach((name, op) -> ops.put(name, op(op, -1)));
        m.put("ops", ops);
        m.put("tags", total.tags());
        return m;
    }

    /**
     * `stats --watch --json`, one per interval: as {@link #totals} but with the counts, rates and
     * latencies of the interval from {@code earlier} to {@code later} alone, and its length.
     */
    public static Map<String, Object> interval(DeviceState s, StatsSample earlier, StatsSample later) {
        StatsSample d = later.since(earlier);
        double seconds = d == later ? 0 : Math.max(0, later.timeMs() - earlier.timeMs()) / 1000.0;
        Map<String, Object> m = device(s, liveness(s));
        m.put("time", Instant.ofEpochMilli(later.timeMs()).toString());
        m.put("interval_s", seconds);
        Map<String, Object> ops = new LinkedHashMap<>();
        d.ops().forEach((name, op) -> ops.put(name, op(op, seconds)));
        m.put("ops", ops);
        m.put("tags", d.tags());
        return m;
    }

    /** requests, bytes, errors, for an interval ({@code seconds >= 0}) iops and mb_per_s (10^6 bytes), latency_us. */
    private static Map<String, Object> op(StatsSample.Op op, double seconds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", op.requests());
        m.put("bytes", op.bytes());
        m.put("errors", op.errors());
        if (seconds > 0) {
            m.put("iops", round(op.requests() / seconds));
            m.put("mb_per_s", round(op.bytes() / seconds / 1e6));
        } else if (seconds == 0) {
            m.put("iops", 0.0);
            m.put("mb_per_s", 0.0);
        }
        m.put("latency_us", Latency.percentilesMicros(op.latency()));
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
