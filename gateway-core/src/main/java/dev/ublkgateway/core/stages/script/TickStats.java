package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockOp;

import java.util.List;

/**
 * Builds the argument of {@code onTick}: what the device did since the previous tick (requests, bytes,
 * rates, latency percentiles measured from the hook down to the target, denials, delays, failures,
 * tags) plus the current rate limit and read-only state. Lives on the control thread.
 */
final class TickStats {
    private final ScriptStage stage;
    private long lastNanos = System.nanoTime();
    private final long[] count = new long[HookQueue.OPS], bytes = new long[HookQueue.OPS];
    private final long[] tagged = new long[Prelude.MAX_TAGS];
    private final long[] latency = new long[HookQueue.BUCKETS];
    private long denied, delayed, failures;

    TickStats(ScriptStage stage) {
        this.stage = stage;
    }

    /** The JSON for the interval that ends now. */
    String next(List<HookQueue> queues) {
        long now = System.nanoTime();
        double seconds = Math.max(1e-9, (now - lastNanos) / 1e9);
        lastNanos = now;
        long[] c = new long[HookQueue.OPS], b = new long[HookQueue.OPS], t = new long[Prelude.MAX_TAGS];
        long[] lat = new long[HookQueue.BUCKETS];
        long d = 0, dl = 0, f = 0;
        for (HookQueue q : queues) {
            for (int i = 0; i < HookQueue.OPS; i++) {
                c[i] += q.count[i];
                b[i] += q.bytes[i];
            }
            for (int i = 0; i < t.length; i++) t[i] += q.tagged[i];
            for (int i = 0; i < lat.length; i++) lat[i] += q.latency[i];
            d += q.denied;
            dl += q.delayed;
            f += q.failures;
        }
        long[] dc = diff(c, count), db = diff(b, bytes), dt = diff(t, tagged), dlat = diff(lat, latency);
        long dDenied = Math.max(0, d - denied), dDelayed = Math.max(0, dl - delayed), dFailures = Math.max(0, f - failures);
        denied = d;
        delayed = dl;
        failures = f;
        long requests = 0;
        for (long x : dc) requests += x;
        long samples = 0;
        for (long x : dlat) samples += x;

        StringBuilder sb = new StringBuilder(512);
        sb.append("{\"device\":").append(HostApi.quote(stage.scope.device));
        sb.append(",\"intervalMs\":").append(Math.round(seconds * 1000));
        sb.append(",\"requests\":").append(requests);
        sb.append(",\"iops\":").append(Math.round(requests / seconds));
        sb.append(",\"reads\":").append(dc[BlockOp.READ]);
        sb.append(",\"writes\":").append(dc[BlockOp.WRITE]);
        sb.append(",\"flushes\":").append(dc[BlockOp.FLUSH]);
        sb.append(",\"discards\":").append(dc[BlockOp.DISCARD] + dc[BlockOp.WRITE_ZEROES]);
        sb.append(",\"readBytes\":").append(db[BlockOp.READ]);
        sb.append(",\"writeBytes\":").append(db[BlockOp.WRITE]);
        sb.append(",\"bandwidth\":").append(Math.round((db[BlockOp.READ] + db[BlockOp.WRITE]) / seconds));
        sb.append(",\"denied\":").append(dDenied);
        sb.append(",\"delayed\":").append(dDelayed);
        sb.append(",\"failures\":").append(dFailures);
        sb.append(",\"latencyUs\":{\"samples\":").append(samples);
        sb.append(",\"p50\":").append(percentile(dlat, samples, 0.50));
        sb.append(",\"p99\":").append(percentile(dlat, samples, 0.99));
        sb.append(",\"max\":").append(percentile(dlat, samples, 1.0)).append('}');
        sb.append(",\"tags\":{");
        List<String> names = stage.scope.tagNames();
        boolean first = true;
        for (int i = 1; i < names.size() && i < dt.length; i++) {
            if (!first) sb.append(',');
            first = false;
            sb.append(HostApi.quote(names.get(i))).append(':').append(dt[i]);
        }
        sb.append('}');
        sb.append(",\"rateLimit\":").append(stage.scope.rateLimitJson());
        sb.append(",\"readOnly\":").append(stage.scope.readOnly());
        return sb.append('}').toString();
    }

    private static long[] diff(long[] now, long[] before) {
        long[] d = new long[now.length];
        for (int i = 0; i < now.length; i++) {
            d[i] = Math.max(0, now[i] - before[i]);
            before[i] = now[i];
        }
        return d;
    }

    /** Upper bound of the bucket holding the given fraction of samples, in microseconds (0 without samples). */
    private static double percentile(long[] hist, long total, double q) {
        if (total == 0) return 0;
        long want = Math.max(1, (long) Math.ceil(total * q));
        long seen = 0;
        for (int b = 0; b < hist.length; b++) {
            seen += hist[b];
            if (seen >= want) return (1L << b) / 1000.0;
        }
        return (1L << (hist.length - 1)) / 1000.0;
    }
}
