package dev.ublkgateway.core.metrics;

import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.MetricsSource;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Turns what the devices' targets and stages report as {@link MetricsSource}s into metric families when
 * scraped: each name gets the {@code ublkgw_} prefix and each series the device's label. A series that
 * breaks the rules of {@link MetricsSink} is left out and logged once, never failing the scrape.
 */
final class SourceCollector implements MultiCollector {
    private static final Logger LOG = Logger.getLogger(SourceCollector.class.getName());
    static final String PREFIX = "ublkgw_";
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");

    private final Supplier<Map<String, List<MetricsSource>>> devices;
    private final Set<String> reserved;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    /** @param reserved family names other collectors show (a source may not take them) */
    SourceCollector(Supplier<Map<String, List<MetricsSource>>> devices, Set<String> reserved) {
        this.devices = devices;
        this.reserved = reserved;
    }

    /** One family being gathered: its kind, help and the value of each label set (repeats add up). */
    private static final class Family {
        final boolean counter;
        final String help;
        final Map<Labels, Double> values = new LinkedHashMap<>();

        Family(boolean counter, String help) {
            this.counter = counter;
            this.help = help;
        }
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, Family> families = new LinkedHashMap<>();
        for (var device : devices.get().entrySet()) {
            Sink sink = new Sink(device.getKey(), families);
            for (MetricsSource source : device.getValue()) {
                try {
                    source.reportMetrics(sink);
                } catch (RuntimeException e) {
                    warnOnce(source.getClass().getName(), "device " + device.getKey() + ": metrics of "
                            + source.getClass().getSimpleName() + " left out: " + e);
                }
            }
        }
        List<MetricSnapshot> out = new ArrayList<>(families.size());
        for (var f : families.entrySet()) {
            try {
                out.add(snapshot(f.getKey(), f.getValue()));
            } catch (IllegalArgumentException e) {
                warnOnce(f.getKey(), "metric " + f.getKey() + " left out: " + e.getMessage());
            }
        }
        return MetricSnapshots.of(out.toArray(MetricSnapshot[]::new));
    }

    private static MetricSnapshot snapshot(String name, Family family) {
        if (family.counter) {
            var b = CounterSnapshot.builder().name(name).help(family.help);
            family.values.forEach((l, v) -> b.dataPoint(CounterDataPointSnapshot.builder().labels(l).value(v).build()));
            return b.build();
        }
        var b = GaugeSnapshot.builder().name(name).help(family.help);
        family.values.forEach((l, v) -> b.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(v).build()));
        return b.build();
    }

    private void warnOnce(String key, String message) {
        if (warned.add(key)) LOG.warning(message);
    }

    private final class Sink implements MetricsSink {
        private final String device;
        private final Map<String, Family> families;

        Sink(String device, Map<String, Family> families) {
            this.device = device;
            this.families = families;
        }

        @Override
        public void counter(String name, String help, long value, String... labels) {
            if (!name.endsWith("_total")) {
                warnOnce(name, "metric " + name + " left out: a counter's name ends in _total");
                return;
            }
            add(true, name.substring(0, name.length() - "_total".length()), help, value, labels);
        }

        @Override
        public void gauge(String name, String help, double value, String... labels) {
            if (name.endsWith("_total")) {
                warnOnce(name, "metric " + name + " left out: only a counter's name ends in _total");
                return;
            }
            add(false, name, help, value, labels);
        }

        private void add(boolean counter, String name, String help, double value, String[] labels) {
            String full = PREFIX + name;
            String problem = !NAME.matcher(name).matches() ? "its name is not snake case ([a-z][a-z0-9_]*)"
                    : reserved.contains(full) ? "its name is one of the gateway's own"
                    : labels.length % 2 != 0 ? "a label has no value"
                    : null;
            Labels l = null;
            if (problem == null) {
                try {
                    String[] all = new String[labels.length + 2];
                    all[0] = "device";
                    all[1] = device;
                    System.arraycopy(labels, 0, all, 2, labels.length);
                    l = Labels.of(all);
                } catch (IllegalArgumentException e) {
                    problem = "bad labels (" + e.getMessage() + ")";
                }
            }
            Family f = problem != null ? null : families.computeIfAbsent(full, k -> new Family(counter, help));
            if (problem == null && f.counter != counter) problem = "it is reported both as a counter and as a gauge";
            if (problem != null) {
                warnOnce(full, "metric " + full + " left out: " + problem);
                return;
            }
            f.values.merge(l, value, Double::sum);
        }
    }
}
