package dev.ublkgateway.core.metrics;

import dev.ublkgateway.core.stages.StatsStage;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The gateway's OpenMetrics/Prometheus endpoint ({@code /metrics}): an HTTP server whose only
 * collector reads the devices' counters when scraped.
 */
public final class MetricsServer implements AutoCloseable {
    private final HTTPServer http;

    private MetricsServer(HTTPServer http) {
        this.http = http;
    }

    /** Starts listening on {@code address}; a port already taken is one line naming the address. */
    public static MetricsServer start(MetricsAddress address, Supplier<Map<String, StatsStage>> devices)
            throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new DeviceCollector(devices));
        try {
            return new MetricsServer(HTTPServer.builder().hostname(address.host()).port(address.port())
                    .registry(registry).buildAndStart());
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + address + " (" + e.getMessage()
                    + "); pick a free port for metrics-listen", e);
        }
    }

    /** The port it listens on (the one picked, for port 0). */
    public int port() {
        return http.getPort();
    }

    @Override
    public void close() {
        http.close();
    }
}
