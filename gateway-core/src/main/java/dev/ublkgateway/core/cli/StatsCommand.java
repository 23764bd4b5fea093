package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "stats", description = "Counters and latencies of a device that has a `stats` stage.")
final class StatsCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME|ID")
    String device;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws Exception {
        StateStore states = StateStore.system();
        DeviceState s = states.find(device).orElseThrow(() -> new UblkException("no device named " + device
                + " is up; see `ublk-gateway list`"));
        Map<String, Object> snap = states.loadStats(s.name()).orElseThrow(() -> new UblkException("device " + s.name()
                + " has no statistics; add `- type: stats` to its stages"));
        System.out.printf("%-13s %12s %14s %8s %10s %10s %10s%n", "OP", "REQUESTS", "BYTES", "ERRORS", "P50_US", "P99_US", "MAX_US");
        for (var e : snap.entrySet()) {
            if (e.getKey().equals("tags")) continue;
            Map<String, Object> m = (Map<String, Object>) e.getValue();
            System.out.printf("%-13s %12s %14s %8s %10s %10s %10s%n", e.getKey(), m.get("requests"), m.get("bytes"),
                    m.get("errors"), m.get("p50_us"), m.get("p99_us"), m.get("max_us"));
        }
        if (snap.get("tags") instanceof Map<?, ?> tags && !tags.isEmpty()) {
            System.out.printf("%nTAG (policy script)        REQUESTS%n");
            for (var e : tags.entrySet()) System.out.printf("%-26s %9s%n", e.getKey(), e.getValue());
        }
        return 0;
    }
}
