package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.MetricsSource;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
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

    /** A target and a stage that publish metrics of their own. */
    static final class CountingTarget implements Target, MetricsSource {
        public TargetQueue openQueue(QueueContext q) { return r -> 0; }
        public void reportMetrics(MetricsSink sink) {}
        public void close() {}
    }

    static final class CountingStage implements BlockStage, MetricsSource {
        public StageQueue openQueue(QueueContext q) { return (r, next) -> next.submit(r); }
        public void reportMetrics(MetricsSink sink) {}
    }

    @Test
    void findsTheStagesAndTheTargetThatPublishMetricsWithOrWithoutAStatsStage() {
        DeviceStats stats = new DeviceStats();
        CountingTarget target = new CountingTarget();
        CountingStage stage = new CountingStage();
        StatsStage st = new StatsStage();
        stats.add("d0", new DeviceChain(List.of(new ReadOnlyStage(false), stage), target));
        stats.add("d1", new DeviceChain(List.of(st), new NullTarget()));
        assertEquals(Map.of("d0", List.<MetricsSource>of(stage, target)), stats.sources(), "stages first, then the target");
        assertEquals(Map.of("d1", st), stats.all());
        stats.remove("d0");
        assertEquals(Map.of(), stats.sources());
    }

    @Test
    void aRemovedDeviceWaitsForAPublishUnderWaySoItsStatsFileCannotReappear() throws Exception {
        DeviceStats stats = new DeviceStats();
        stats.add("d0", new DeviceChain(List.of(new StatsStage()), new NullTarget()));
        java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1),
                release = new java.util.concurrent.CountDownLatch(1);
        Thread publisher = Thread.ofPlatform().start(() -> stats.publish((device, snapshot) -> {
            writing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        assertTrue(writing.await(10, java.util.concurrent.TimeUnit.SECONDS));
        Thread remover = Thread.ofPlatform().start(() -> stats.remove("d0"));
        remover.join(300);
        assertTrue(remover.isAlive(), "remove returned while the device's stats were being written");
        release.countDown();
        remover.join(10_000);
        publisher.join(10_000);
        assertFalse(remover.isAlive());
        assertEquals(Map.of(), stats.all());
        List<String> written = new java.util.ArrayList<>();
        stats.publish((device, snapshot) -> written.add(device));
        assertEquals(List.of(), written, "a removed device is not published again");
    }
}
