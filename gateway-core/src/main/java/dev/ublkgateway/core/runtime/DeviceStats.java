package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.MetricsSource;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.stages.StatsStage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The stats stages of the devices one gateway serves, by device name, and their publishing for `stats`;
 * and the stages and targets that publish metrics of their own ({@link MetricsSource}).
 */
final class DeviceStats {
    private static final Logger LOG = Logger.getLogger(DeviceStats.class.getName());

    private final Map<String, StatsStage> byDevice = new ConcurrentHashMap<>();
    private final Map<String, List<MetricsSource>> sources = new ConcurrentHashMap<>();

    /** Remembers the device's stats stage, if its chain has one, and its stages and target that publish metrics. */
    void add(String device, DeviceChain chain) {
        List<MetricsSource> found = new ArrayList<>();
        StatsStage first = null;
        for (BlockStage s : chain.stages()) {
            if (s instanceof StatsStage st && first == null) first = st;
            if (s instanceof MetricsSource m) found.add(m);
        }
        if (first != null) byDevice.put(device, first);
        if (chain.target() instanceof MetricsSource m) found.add(m);
        if (!found.isEmpty()) sources.put(device, List.copyOf(found));
    }

    /** Where {@link #publish} writes a device's counters (the run directory's stats file). */
    @FunctionalInterface
    interface StatsWriter {
        void save(String device, Object snapshot) throws IOException;
    }

    /** Held while publishing: a device removed waits for a publish under way, so no stats file of it appears later. */
    private final Object publishing = new Object();

    void remove(String device) {
        synchronized (publishing) {
            byDevice.remove(device);
            sources.remove(device);
        }
    }

    /** The metrics sources of each device that has any. */
    Map<String, List<MetricsSource>> sources() {
        return Map.copyOf(sources);
    }

    Map<String, StatsStage> all() {
        return Map.copyOf(byDevice);
    }

    /** Writes each device's current counters where `ublk-gateway stats` reads them. */
    void publish(StatsWriter out) {
        synchronized (publishing) {
            for (var e : byDevice.entrySet()) {
                try {
                    out.save(e.getKey(), e.getValue().snapshot());
                } catch (IOException ex) {
                    LOG.fine("stats of " + e.getKey() + ": " + ex.getMessage());
                }
            }
        }
    }
}
