package dev.ublkgateway.core.metrics;

import dev.ublkgateway.api.MetricsSource;
import dev.ublkgateway.core.stages.StatsStage;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The gateway's OpenMetrics/Prometheus endpoint ({@code /metrics}): an HTTP server whose collectors
 * read the devices' counters when scraped: the stats stages' and those the targets and stages publish.
 */
public final class MetricsServer implements AutoCloseable {
    private final HTTPServer http;

    private MetricsServer(HTTPServer http) {
        this.http = http;
    }

    /** Starts listening on {@code address}; a port already taken is one line naming the address. */
    public static MetricsServer start(MetricsAddress address, Supplier<Map<String, StatsStage>> devices)
            throws IOException {
        return start(address, devices, Map::of);
    }

    /** As {@link #start(MetricsAddress, Supplier)}, also showing what each device's {@code sources} report. */
    public static MetricsServer start(MetricsAddress address, Supplier<Map<String, StatsStage>> devices,
                                      Supplier<Map<String, List<MetricsSource>>> sources) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new DeviceCollector(devices));
        registry.register(new SourceCollector(sources, DeviceCollector.NAMES));
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
