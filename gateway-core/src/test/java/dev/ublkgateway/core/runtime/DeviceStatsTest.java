package dev.ublkgateway.core.runtime;

import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.stages.ReadOnlyStage;
import dev.ublkgateway.core.stages.StatsStage;
import dev.ublkgateway.core.targets.NullTarget;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The gateway keeps its own devices' stats stages: two gateways in one process do not mix them. */
class DeviceStatsTest {
    @Test
    void findsTheStatsStageInAChainAndForgetsItOnRemove() {
        StatsStage st = new StatsStage();
        DeviceStats one = new DeviceStats(), other = new DeviceStats();
        one.add("d0", new DeviceChain(List.of(new ReadOnlyStage(false), st), new NullTarget()));
        one.add("d1", new DeviceChain(List.of(new ReadOnlyStage(false)), new NullTarget()));
        assertEquals(Map.of("d0", st), one.all(), "a chain without a stats stage has nothing to report");
        assertEquals(Map.of(), other.all());
        one.remove("d0");
        assertEquals(Map.of(), one.all());
    }
}
