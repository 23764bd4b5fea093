package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.metrics.MetricsAddress;
import dev.ublkgateway.core.runtime.Gateway;

import java.io.IOException;
import java.util.logging.Logger;

/** Where `up` and `recover` serve metrics: {@code --metrics-listen}, else the file's {@code metrics-listen:}, else nowhere. */
final class MetricsListen {
    private static final Logger LOG = Logger.getLogger(MetricsListen.class.getName());

    private MetricsListen() {}

    static MetricsAddress choose(MetricsAddress option, GatewayConfig config) {
        if (option != null) return option;
        return config.metricsListen() == null ? null : MetricsAddress.parse(config.metricsListen());
    }

    /**
     * Starts the endpoint of a `recover`. A port the option names must be free (as for `up`); the file's
     * port may already be taken by the recover of another device of the same file, and the device matters
     * more than its metrics, so then the recovery goes on without them and says how to get them.
     */
    static void serveForRecovery(Gateway gateway, MetricsAddress option, GatewayConfig config) throws IOException {
        MetricsAddress address = choose(option, config);
        if (address == null) return;
        try {
            gateway.serveMetrics(address);
        } catch (IOException e) {
            if (option != null) throw e;
            LOG.warning(e.getMessage().replace("; pick a free port for metrics-listen", "")
                    + "; recovering without metrics (give recover its own --metrics-listen)");
        }
    }
}
