package dev.ublkgateway.api;

/**
 * Where a {@link MetricsSource} reports its values, one call per series. Names are snake case
 * ({@code [a-z][a-z0-9_]*}) and end in their unit ({@code _bytes}, {@code _seconds}); a counter's name
 * ends in {@code _total}. The gateway shows them prefixed with {@code ublkgw_} and labelled with the
 * device; {@code labels} are further name, value pairs ({@code "op", "get"}). The same name must keep the
 * same kind, help and label names; series reported twice with the same labels are added up.
 * Since API 1.6.
 */
public interface MetricsSink {
    /** A count that only grows while the source lives (requests, bytes moved, failures). */
    void counter(String name, String help, long value, String... labels);

    /** A value that goes up and down (bytes cached, calls in progress, 1/0 for a state). */
    void gauge(String name, String help, double value, String... labels);

    /** This sink with {@code labels} (name, value pairs) added to every series reported through it. */
    default MetricsSink withLabels(String... labels) {
        MetricsSink outer = this;
        return new MetricsSink() {
            @Override
            public void counter(String name, String help, long value, String... more) {
                outer.counter(name, help, value, concat(labels, more));
            }

            @Override
            public void gauge(String name, String help, double value, String... more) {
                outer.gauge(name, help, value, concat(labels, more));
            }

            private static String[] concat(String[] a, String[] b) {
                String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, all, a.length, b.length);
                return all;
            }
        };
    }
}
