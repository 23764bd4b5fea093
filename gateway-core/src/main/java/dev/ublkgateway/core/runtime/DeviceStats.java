package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.stages.StatsStage;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/** The stats stages of the devices one gateway serves, by device name, and their publishing for `stats`. */
final class DeviceStats {
    private static final Logger LOG = Logger.getLogger(DeviceStats.class.getName());

    private final Map<String, StatsStage> byDevice = new ConcurrentHashMap<>();

    /** Remembers the device's stats stage, if its chain has one. */
    void add(String device, DeviceChain chain) {
        for (BlockStage s : chain.stages()) {
            if (s instanceof StatsStage st) {
                byDevice.put(device, st);
                return;
            }
        }
    }

    void remove(String device) {
        byDevice.remove(device);
    }

    Map<String, StatsStage> all() {
        return Map.copyOf(byDevice);
    }

    /** Writes each device's current counters where `ublk-gateway stats` reads them. */
    void publish(StateStore states) {
        for (var e : byDevice.entrySet()) {
            try {
                states.saveStats(e.getKey(), e.getValue().snapshot());
            } catch (IOException ex) {
                LOG.fine("stats of " + e.getKey() + ": " + ex.getMessage());
            }
        }
    }
}
