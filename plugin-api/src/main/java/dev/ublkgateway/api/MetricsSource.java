package dev.ublkgateway.api;

/**
 * A target, stage, object store or chunk codec that publishes counters and gauges of its own. The gateway
 * asks each device's stages and target whether they are one ({@code instanceof}) and, when its metrics
 * endpoint is scraped, calls {@link #reportMetrics} and shows what it reports under the device's name. A
 * target that holds stores or codecs passes their reports on (adding its own labels, e.g. the store type).
 *
 * <p>Keep the counting cheap: the request path only adds to plain {@code long} fields, array slots or
 * {@link java.util.concurrent.atomic.LongAdder}s; reading and naming them happens here, at scrape time, on
 * a thread of the gateway's. Nothing here depends on a metrics library. Since API 1.6.
 */
public interface MetricsSource {
    /** Reports the current value of each metric to {@code sink}; called at scrape time, must not block long. */
    void reportMetrics(MetricsSink sink);
}
