package dev.ublkgateway.core.stats;

import org.HdrHistogram.Histogram;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One published snapshot of a device's stats stage, as `ublk-gateway stats` reads it back: when it
 * was taken, per op the totals since the device came up, and the policy script's tags. The
 * difference of two ({@link #since}) is what happened between them.
 *
 * @param timeMs when the gateway took it, epoch milliseconds (0 from gateways that did not say)
 * @param ops by op name ("read", "write", "flush", "discard", "write-zeroes"), in that order
 */
public record StatsSample(long timeMs, Map<String, Op> ops, Map<String, Long> tags) {
    /** One op's requests, bytes moved, failed requests and the latencies of all its requests. */
    public record Op(long requests, long bytes, long errors, Histogram latency) {
        Op minus(Op earlier) {
            Histogram h = latency.copy();
            h.subtract(earlier.latency);
            return new Op(requests - earlier.requests, bytes - earlier.bytes, errors - earlier.errors, h);
        }

        boolean notBefore(Op earlier) {
            return requests >= earlier.requests && bytes >= earlier.bytes && errors >= earlier.errors
                    && latency.getTotalCount() >= earlier.latency.getTotalCount();
        }
    }

    /** Reads what {@code StatsStage.snapshot()} published; an unreadable file is an IllegalArgumentException. */
    public static StatsSample from(Map<String, Object> published) {
        Map<String, Op> ops = new LinkedHashMap<>();
        Map<String, Long> tags = new LinkedHashMap<>();
        for (var e : published.entrySet()) {
            if (e.getKey().equals("tags") && e.getValue() instanceof Map<?, ?> t) {
                t.forEach((k, v) -> tags.put(String.valueOf(k), number(v)));
            } else if (e.getValue() instanceof Map<?, ?> m) {
                Histogram h = m.get("latency") instanceof String s ? Latency.decode(s) : Latency.histogram();
                ops.put(e.getKey(), new Op(number(m.get("requests")), number(m.get("bytes")), number(m.get("errors")), h));
            }
        }
        return new StatsSample(number(published.get("time_ms")), ops, tags);
    }

    /**
     * What happened from {@code earlier} to this one. When a count went down, the device came up
     * anew in between: then everything since it came up, which is this sample itself.
     */
    public StatsSample since(StatsSample earlier) {
        for (var e : ops.entrySet()) {
            Op before = earlier.ops.get(e.getKey());
            if (before != null && !e.getValue().notBefore(before)) return this;
        }
        Map<String, Op> diff = new LinkedHashMap<>();
        for (var e : ops.entrySet()) {
            Op before = earlier.ops.get(e.getKey());
            diff.put(e.getKey(), before == null ? e.getValue() : e.getValue().minus(before));
        }
        Map<String, Long> tagDiff = new LinkedHashMap<>();
        tags.forEach((k, v) -> tagDiff.put(k, Math.max(0, v - earlier.tags.getOrDefault(k, 0L))));
        return new StatsSample(timeMs, diff, tagDiff);
    }

    private static long number(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }
}
