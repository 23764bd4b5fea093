package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.MetricsSink;

import java.util.Map;
import java.util.TreeMap;

/** What a source reports, as {@code name{label=value,...}} to value; repeats add up, as at the endpoint. */
final class RecordingSink implements MetricsSink {
    final Map<String, Double> values = new TreeMap<>();
    final Map<String, String> kinds = new TreeMap<>();

    @Override
    public void counter(String name, String help, long value, String... labels) {
        put("counter", name, value, labels);
    }

    @Override
    public void gauge(String name, String help, double value, String... labels) {
        put("gauge", name, value, labels);
    }

    private void put(String kind, String name, double value, String[] labels) {
        if (labels.length % 2 != 0) throw new AssertionError(name + ": a label without a value");
        if (kind.equals("counter") != name.endsWith("_total")) throw new AssertionError(name + ": counters, and only they, end in _total");
        String prev = kinds.put(name, kind);
        if (prev != null && !prev.equals(kind)) throw new AssertionError(name + " is both a counter and a gauge");
        Map<String, String> sorted = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) sorted.put(labels[i], labels[i + 1]);
        StringBuilder key = new StringBuilder(name).append('{');
        sorted.forEach((k, v) -> key.append(k).append('=').append(v).append(','));
        if (!sorted.isEmpty()) key.setLength(key.length() - 1);
        values.merge(key.append('}').toString(), value, Double::sum);
    }

    /** The value of one series, e.g. {@code get("store_requests_total{op=put,store=memory}")}; fails when absent. */
    double get(String series) {
        Double v = values.get(series);
        if (v == null) throw new AssertionError("no series " + series + " in " + values);
        return v;
    }
}
