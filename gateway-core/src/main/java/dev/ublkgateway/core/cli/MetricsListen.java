package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.metrics.MetricsAddress;
import dev.ublkgateway.core.runtime.Gateway;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.util.List;
import java.util.logging.Logger;

/**
 * {@code --metrics-listen} of the commands that serve devices (`up`, `recover`, `upgrade`), as a picocli
 * mixin, and where they serve metrics: the option, else the file's {@code metrics-listen:}, else nowhere.
 */
final class MetricsListen {
    private static final Logger LOG = Logger.getLogger(MetricsListen.class.getName());

    @Option(names = "--metrics-listen", paramLabel = "ADDR", description = "serve Prometheus/OpenMetrics metrics at "
            + "http://ADDR/metrics (HOST:PORT), overriding metrics-listen: in the YAML file",
            converter = AddressConverter.class)
    MetricsAddress option;

    /** A bad --metrics-listen is a usage error, reported before anything starts. */
    static final class AddressConverter implements ITypeConverter<MetricsAddress> {
        @Override
        public MetricsAddress convert(String text) {
            try {
                return MetricsAddress.parse(text);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** The option as the arguments of a background process started for the same command. */
    List<String> arguments() {
        return option == null ? List.of() : List.of("--metrics-listen", option.toString());
    }

    MetricsAddress choose(GatewayConfig config) {
        return choose(option, config);
    }

    static MetricsAddress choose(MetricsAddress option, GatewayConfig config) {
        if (option != null) return option;
        return config.metricsListen() == null ? null : MetricsAddress.parse(config.metricsListen());
    }

    void serveForRecovery(Gateway gateway, GatewayConfig config) throws IOException {
        serveForRecovery(gateway, option, config);
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
