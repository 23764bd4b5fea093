package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.StageProvider;
import org.pf4j.Extension;

/** The stages that ship with the gateway, registered through PF4J like any plugin's. */
public final class BuiltInStages {
    private BuiltInStages() {}

    @Extension
    public static final class Stats implements StageProvider<StatsConfig> {
        public String name() { return "stats"; }
        public String description() { return "per-device request, byte and error counters with latency percentiles"; }
        public Class<StatsConfig> configType() { return StatsConfig.class; }
        public BlockStage create(StatsConfig c, DeviceDescriptor d) { return new StatsStage(); }
    }

    @Extension
    public static final class RateLimit implements StageProvider<RateLimitConfig> {
        public String name() { return "rate-limit"; }
        public String description() { return "caps IOPS and bandwidth with token buckets"; }
        public Class<RateLimitConfig> configType() { return RateLimitConfig.class; }
        public BlockStage create(RateLimitConfig c, DeviceDescriptor d) {
            return new RateLimitStage(c.iops(), c.bytesPerSecond(), c.burstMs(), d.queues());
        }
    }

    @Extension
    public static final class ReadOnly implements StageProvider<ReadOnlyConfig> {
        public String name() { return "read-only"; }
        public String description() { return "fails writes, discards and write-zeroes with EROFS"; }
        public Class<ReadOnlyConfig> configType() { return ReadOnlyConfig.class; }
        public BlockStage create(ReadOnlyConfig c, DeviceDescriptor d) { return new ReadOnlyStage(c.enabled()); }
    }

    @Extension
    public static final class Fault implements StageProvider<FaultConfig> {
        public String name() { return "fault"; }
        public String description() { return "injects errors and delays on chosen ops and ranges (for testing)"; }
        public Class<FaultConfig> configType() { return FaultConfig.class; }
        public BlockStage create(FaultConfig c, DeviceDescriptor d) {
            return new FaultStage(c.opMask(), c.fromBytes(), c.toBytes(d.sizeBytes()), c.errno(), c.probability(),
                    c.delayUs(), c.after());
        }
    }
}
