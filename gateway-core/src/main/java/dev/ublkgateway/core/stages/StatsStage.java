package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.stats.Latency;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Per-device counters (requests, bytes, errors per op) and latencies, measured from this stage down to
 * the target. Each queue counts in its own arrays and records latencies twice: in power-of-two
 * nanosecond buckets (the Prometheus histogram) and in an HdrHistogram recorder per op (the
 * percentiles of `ublk-gateway stats`). {@link #snapshot()} sums the queues. The running gateway finds a
 * device's stats stage in its chain to report it.
 */
public final class StatsStage implements BlockStage {
    public static final int OPS = 6, BUCKETS = 40;
    /** Errno numbers counted one by one; larger ones (none on Linux today) share the last slot. */
    public static final int ERRNOS = 134;
    /** The ops reported, in the order they are shown. */
    private static final int[] REPORTED = {BlockOp.READ, BlockOp.WRITE, BlockOp.FLUSH, BlockOp.DISCARD, BlockOp.WRITE_ZEROES};

    private final List<Counters> queues = new CopyOnWriteArrayList<>();
    private volatile Supplier<Map<String, Long>> tags;
    private final LongSupplier clock;
    /** Per op, every latency the queues recorded so far; guarded by this. */
    private final Histogram[] latency = new Histogram[OPS];

    public StatsStage() {
        this(System::nanoTime);
    }

    /** With the clock latencies are measured by, in nanoseconds. */
    StatsStage(LongSupplier clock) {
        this.clock = clock;
        for (int op = 0; op < OPS; op++) latency[op] = Latency.histogram();
    }

    /** Counts only, per queue; the totals are summed across queues, so any number of connections may share it. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.passThrough();
    }

    @Override
    public StageQueue openQueue(QueueContext queue) {
        Counters c = new Counters(queue.queueId(), queue.depth(), clock);
        queues.add(c);
        return c;
    }

    /** Where the counts of requests a policy script tagged come from (the device's script stage). */
    public void tags(Supplier<Map<String, Long>> source) {
        tags = source;
    }

    /**
     * What the gateway publishes for `ublk-gateway stats`: "time_ms", when it was taken (epoch
     * milliseconds, read before the counters); totals per op since the device came up: requests, bytes,
     * errors, latency percentiles in microseconds and "latency", all latencies as a compressed
     * HdrHistogram of nanoseconds in base64 ({@link Latency#decode}), from which a reader of two
     * snapshots gets the percentiles of the time between them; with a policy script on the device,
     * also "tags": the requests its onRequest tagged, per tag.
     */
    public Map<String, Object> snapshot() {
        long now = System.currentTimeMillis();
        long[] count = new long[OPS], bytes = new long[OPS], errors = new long[OPS];
        for (QueueCounts c : queueCounts()) {
            for (int op = 0; op < OPS; op++) {
                count[op] += c.count[op];
                bytes[op] += c.bytes[op];
                errors[op] += c.errors[op];
            }
        }
        Histogram[] lat = latencies();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("time_ms", now);
        for (int op : REPORTED) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("requests", count[op]);
            m.put("bytes", bytes[op]);
            m.put("errors", errors[op]);
            Latency.percentilesMicros(lat[op]).forEach((p, us) -> m.put(p + "_us", us));
            m.put("latency", Latency.encode(lat[op]));
            out.put(BlockOp.name(op).toLowerCase(java.util.Locale.ROOT).replace('_', '-'), m);
        }
        var t = tags;
        if (t != null) out.put("tags", t.get());
        return out;
    }

    /**
     * Per op (by {@link BlockOp} number), a copy of every latency recorded since the device came up.
     * The queues' recorders hand over what they recorded since the last call without ever making the
     * queue threads wait.
     */
    public synchronized Histogram[] latencies() {
        for (Counters c : queues) {
            boolean closed = c.closed;
            for (int op = 0; op < OPS; op++) {
                SingleWriterRecorder r = c.recorders[op];
                if (r == null) continue;
                c.spare[op] = r.getIntervalHistogram(c.spare[op]);
                latency[op].add(c.spare[op]);
                if (closed) {
                    // its thread records no more: free the recorder, the totals have all it held
                    c.recorders[op] = null;
                    c.spare[op] = null;
                }
            }
        }
        Histogram[] out = new Histogram[OPS];
        for (int op = 0; op < OPS; op++) out[op] = latency[op].copy();
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

    /**
     * One queue's counters: written only by that queue's thread. Its latency recorders are read (and,
     * once it is closed, dropped) by {@link #latencies()}; the spare histograms are that method's.
     */
    private static final class Counters implements StageQueue {
        final long[] count = new long[OPS], bytes = new long[OPS], errors = new long[OPS];
        final long[][] hist = new long[OPS][BUCKETS], errnos = new long[OPS][ERRNOS];
        final long[] sumNanos = new long[OPS], started;
        final SingleWriterRecorder[] recorders = new SingleWriterRecorder[OPS];
        final Histogram[] spare = new Histogram[OPS];
        final int queueId;
        final LongSupplier clock;
        long inFlight;
        volatile boolean closed;

        Counters(int queueId, int depth, LongSupplier clock) {
            this.queueId = queueId;
            this.clock = clock;
            started = new long[depth];
            for (int op : REPORTED) recorders[op] = new SingleWriterRecorder(1, Latency.HIGHEST_NANOS, Latency.DIGITS);
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public int submit(BlockRequest r, TargetQueue next) {
            long t0 = clock.getAsLong();
            int res = next.submit(r);
            if (res == TargetQueue.PENDING) {
                started[r.tag()] = t0;
                inFlight++;
                return res;
            }
            record(r, res, clock.getAsLong() - t0);
            return res;
        }

        @Override
        public int completed(BlockRequest r, int result) {
            inFlight--;
            record(r, result, clock.getAsLong() - started[r.tag()]);
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
            SingleWriterRecorder latency = recorders[op];
            if (latency != null) latency.recordValue(Latency.clamp(nanos));
        }
    }

}
