package dev.ublkgateway.core.metrics;

import dev.ublkgateway.core.sys.Endpoint;

/** Where the metrics endpoint listens: a TCP {@code HOST:PORT} ({@code :PORT} for all addresses). */
public record MetricsAddress(String host, int port) {

    /** Reads {@code metrics-listen} / {@code --metrics-listen}; the message of a bad value says how to write it. */
    public static MetricsAddress parse(String text) {
        String hint = "; write HOST:PORT, e.g. 127.0.0.1:9810";
        Endpoint e;
        try {
            e = Endpoint.parse(text, -1);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("metrics address " + ex.getMessage() + hint);
        }
        if (e.isUnix()) throw new IllegalArgumentException("metrics address \"" + text + "\" is a socket path; "
                + "Prometheus scrapes over TCP" + hint);
        if (e.port() < 0) throw new IllegalArgumentException("metrics address \"" + text + "\" has no port" + hint);
        return new MetricsAddress(e.host(), e.port());
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
