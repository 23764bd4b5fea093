package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Per-device counters (requests, bytes, errors per op) and latency histograms (power-of-two
 * nanosecond buckets), measured from this stage down to the target. Each queue counts in its own
 * arrays; {@link #snapshot()} sums them. The running gateway finds a device's stats stage in its chain
 * to report it.
 */
public final class StatsStage implements BlockStage {
    public static final int OPS = 6, BUCKETS = 40;
    /** Errno numbers counted one by one; larger ones (none on Linux today) share the last slot. */
    public static final int ERRNOS = 134;

    private final List<Counters> queues = new CopyOnWriteArrayList<>();
    private volatile Supplier<Map<String, Long>> tags;

    /** Counts only, per queue; the totals are summed across queues, so any number of connections may share it. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.passThrough();
    }

    @Override
    public StageQueue openQueue(QueueContext queue) {
        Counters c = new Counters(queue.queueId(), queue.depth());
        queues.add(c);
        return c;
    }

    /** Where the counts of requests a policy script tagged come from (the device's script stage). */
    public void tags(Supplier<Map<String, Long>> source) {
        tags = source;
    }

    /**
     * Totals per op: requests, bytes, errors, and latency percentiles in microseconds; with a policy
     * script on the device, also "tags": the requests its onRequest tagged, per tag.
     */
    public Map<String, Object> snapshot() {
        long[] count = new long[OPS], bytes = new long[OPS], errors = new long[OPS];
        long[][] hist = new long[OPS][BUCKETS];
        for (QueueCounts c : queueCounts()) {
            for (int op = 0; op < OPS; op++) {
                count[op] += c.count[op];
                bytes[op] += c.bytes[op];
                errors[op] += c.errors[op];
                for (int b = 0; b < BUCKETS; b++) hist[op][b] += c.hist[op][b];
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (int op : new int[] {BlockOp.READ, BlockOp.WRITE, BlockOp.FLUSH, BlockOp.DISCARD, BlockOp.WRITE_ZEROES}) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("requests", count[op]);
            m.put("bytes", bytes[op]);
            m.put("errors", errors[op]);
            m.put("p50_us", percentile(hist[op], count[op], 0.50));
            m.put("p99_us", percentile(hist[op], count[op], 0.99));
            m.put("max_us", percentile(hist[op], count[op], 1.0));
            out.put(BlockOp.name(op).toLowerCase(java.util.Locale.ROOT).replace('_', '-'), m);
        }
        var t = tags;
        if (t != null) out.put("tags", t.get());
        return out;
    }

    /**
     * The raw counters per queue id, copied now, by ascending id: what the metrics endpoint reads at
     * scrape time. NBD connections sharing a queue id (connection number modulo queues) are summed,
     * so the ids stay as few as the device's queues however many clients come and go.
     */
    public List<QueueCounts> queueCounts() {
        Map<Integer, QueueCounts> byId = new java.util.TreeMap<>();
        for (Counters c : queues) {
            QueueCounts sum = byId.computeIfAbsent(c.queueId, id -> new QueueCounts(id, new long[OPS], new long[OPS],
                    new long[OPS], new long[OPS][ERRNOS], new long[OPS][BUCKETS], new long[OPS], new long[1]));
            sum.inFlight[0] += c.inFlight;
            for (int op = 0; op < OPS; op++) {
                sum.count[op] += c.count[op];
                sum.bytes[op] += c.bytes[op];
                sum.errors[op] += c.errors[op];
                sum.nanos[op] += c.sumNanos[op];
                for (int e = 0; e < ERRNOS; e++) sum.errnos[op][e] += c.errnos[op][e];
                for (int b = 0; b < BUCKETS; b++) sum.hist[op][b] += c.hist[op][b];
            }
        }
        return List.copyOf(byId.values());
    }

    /**
     * One queue id's counters, each array indexed by {@link BlockOp} number.
     *
     * @param errnos per op, failed requests by errno (index = errno)
     * @param hist per op, latency buckets: bucket b holds latencies in [2^(b-1), 2^b) ns
     * @param nanos per op, the sum of latencies in nanoseconds
     * @param inFlight one element: requests the target has not answered yet
     */
    public record QueueCounts(int queue, long[] count, long[] bytes, long[] errors, long[][] errnos, long[][] hist,
                              long[] nanos, long[] inFlight) {
    }

    /** Upper bound of the bucket holding the given fraction of samples, in microseconds. */
    private static double percentile(long[] hist, long total, double q) {
        if (total == 0) return 0;
        long want = (long) Math.ceil(total * q);
        long seen = 0;
        for (int b = 0; b < BUCKETS; b++) {
            seen += hist[b];
            if (seen >= want) return (1L << b) / 1000.0;
        }
        return (1L << (BUCKETS - 1)) / 1000.0;
    }

    /** One queue's counters: written only by that queue's thread. */
    private static final class Counters implements StageQueue {
        final long[] count = new long[OPS], bytes = new long[OPS], errors = new long[OPS];
        final long[][] hist = new long[OPS][BUCKETS], errnos = new long[OPS][ERRNOS];
        final long[] sumNanos = new long[OPS], started;
        final int queueId;
        long inFlight;

        Counters(int queueId, int depth) {
            this.queueId = queueId;
            started = new long[depth];
        }

        @Override
        public int submit(BlockRequest r, TargetQueue next) {
            long t0 = System.nanoTime();
            int res = next.submit(r);
            if (res == TargetQueue.PENDING) {
                started[r.tag()] = t0;
                inFlight++;
                return res;
            }
            record(r, res, System.nanoTime() - t0);
            return res;
        }

        @Override
        public int completed(BlockRequest r, int result) {
            inFlight--;
            record(r, result, System.nanoTime() - started[r.tag()]);
            return result;
        }

        private void record(BlockRequest r, int result, long nanos) {
            int op = r.op();
            if (op < 0 || op >= OPS) return;
            count[op]++;
            if (result < 0) {
                errors[op]++;
                errnos[op][(int) Math.min(-(long) result, ERRNOS - 1)]++;
            } else {
                bytes[op] += r.length();
            }
            sumNanos[op] += nanos;
            int b = Math.min(BUCKETS - 1, 64 - Long.numberOfLeadingZeros(Math.max(nanos, 1)));
            hist[op][b]++;
        }
    }

}
