package dev.ublkgateway.core.metrics;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.stages.StatsStage;
import dev.ublkgateway.core.stages.StatsStage.QueueCounts;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Turns the devices' stats stages into metric families when scraped: per device, queue and op the
 * requests, bytes, errors by errno and a latency histogram, and the requests in flight per queue. It
 * reads the counters the queues already keep; the request path does no extra work for metrics.
 */
final class DeviceCollector implements MultiCollector {
    private static final int[] OPS = {BlockOp.READ, BlockOp.WRITE, BlockOp.FLUSH, BlockOp.DISCARD, BlockOp.WRITE_ZEROES};
    /** Bucket b counts latencies below 2^b ns; the last one also holds everything longer. */
    private static final double[] BOUNDS_SECONDS = new double[StatsStage.BUCKETS];
    static {
        for (int b = 0; b < StatsStage.BUCKETS - 1; b++) BOUNDS_SECONDS[b] = (1L << b) / 1e9;
        BOUNDS_SECONDS[StatsStage.BUCKETS - 1] = Double.POSITIVE_INFINITY;
    }

    /** The families this collector shows (what other collectors may not name theirs). */
    static final java.util.Set<String> NAMES = java.util.Set.of("ublkgw_requests", "ublkgw_bytes", "ublkgw_errors",
            "ublkgw_in_flight_requests", "ublkgw_request_duration_seconds");

    private final Supplier<Map<String, StatsStage>> devices;

    DeviceCollector(Supplier<Map<String, StatsStage>> devices) {
        this.devices = devices;
    }

    @Override
    public MetricSnapshots collect() {
        var requests = CounterSnapshot.builder().name("ublkgw_requests").help("Requests answered, by device, queue and op");
        var bytes = CounterSnapshot.builder().name("ublkgw_bytes").help("Bytes moved by successful requests");
        var errors = CounterSnapshot.builder().name("ublkgw_errors").help("Failed requests, by op and errno");
        var inFlight = GaugeSnapshot.builder().name("ublkgw_in_flight_requests").help("Requests the target has not answered yet");
        var latency = HistogramSnapshot.builder().name("ublkgw_request_duration_seconds")
                .help("Time from the stats stage down to the target and back");
        for (var device : devices.get().entrySet()) {
            for (QueueCounts c : device.getValue().queueCounts()) {
                Labels queue = Labels.of("device", device.getKey(), "queue", Integer.toString(c.queue()));
                inFlight.dataPoint(GaugeDataPointSnapshot.builder().labels(queue).value(c.inFlight()[0]).build());
                for (int op : OPS) {
                    Labels l = queue.add("op", opName(op));
                    requests.dataPoint(counter(l, c.count()[op]));
                    bytes.dataPoint(counter(l, c.bytes()[op]));
                    long[] byErrno = c.errnos()[op];
                    for (int e = 1; e < byErrno.length; e++) {
                        if (byErrno[e] > 0) errors.dataPoint(counter(l.add("errno", Errno.name(e)), byErrno[e]));
                    }
                    latency.dataPoint(HistogramDataPointSnapshot.builder().labels(l).sum(c.nanos()[op] / 1e9)
                            .classicHistogramBuckets(ClassicHistogramBuckets.of(BOUNDS_SECONDS, c.hist()[op])).build());
                }
            }
        }
        return MetricSnapshots.of(requests.build(), bytes.build(), errors.build(), inFlight.build(), latency.build());
    }

    private static CounterDataPointSnapshot counter(Labels labels, long value) {
        return CounterDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    /** "read", "write_zeroes": the op names in snake case, as Prometheus label values usually are. */
    private static String opName(int op) {
        return BlockOp.name(op).toLowerCase(Locale.ROOT);
    }
}
