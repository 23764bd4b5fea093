package dev.ublkgateway.core.chain;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.Capabilities.DataAccess;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.stages.FaultStage;
import dev.ublkgateway.core.stages.ReadOnlyStage;
import dev.ublkgateway.core.targets.NullTarget;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What a chain allows follows from what its stages and target declare. */
class DeviceChainCapabilitiesTest {
    static BlockStage declaring(Capabilities c) {
        return new BlockStage() {
            public StageQueue openQueue(QueueContext q) { return (r, next) -> next.submit(r); }
            public Capabilities capabilities() { return c; }
        };
    }

    /** A plugin stage built for API 1.3: declares nothing. */
    static final BlockStage OLD_STAGE = q -> (r, next) -> next.submit(r);

    /** A plugin target built for API 1.3: declares nothing, stores data. */
    static final Target OLD_TARGET = new Target() {
        public TargetQueue openQueue(QueueContext q) { return r -> 0; }
        public void close() {}
    };

    static Capabilities of(List<BlockStage> stages, Target target) {
        return new DeviceChain(stages, target).capabilities();
    }

    @Test
    void multiConnOnlyWhenEveryPartIsSafe() {
        BlockStage safe = declaring(new Capabilities(true, DataAccess.CHANGES, false));
        assertTrue(of(List.of(), new NullTarget()).multiConnSafe());
        assertTrue(of(List.of(new ReadOnlyStage(true), safe), new NullTarget()).multiConnSafe());
        assertFalse(of(List.of(new ReadOnlyStage(true), OLD_STAGE), new NullTarget()).multiConnSafe());
        assertFalse(of(List.of(safe), OLD_TARGET).multiConnSafe());
        assertFalse(of(List.of(declaring(Capabilities.passThrough().withMultiConnSafe(false))), new NullTarget())
                .multiConnSafe());
    }

    @Test
    void dataAccessIsTheMostAnyPartDeclares() {
        assertEquals(DataAccess.NONE, of(List.of(), new NullTarget()).data());
        assertEquals(DataAccess.NONE, of(List.of(new FaultStage(0, 0, 0, 0, 0, 0, 0)), new NullTarget()).data());
        assertEquals(DataAccess.READS, of(List.of(declaring(Capabilities.passThrough().withData(DataAccess.READS))),
                new NullTarget()).data());
        assertEquals(DataAccess.CHANGES, of(List.of(OLD_STAGE), new NullTarget()).data(), "undeclared: may change data");
        assertEquals(DataAccess.CHANGES, of(List.of(new ReadOnlyStage(true)), OLD_TARGET).data());
    }

    @Test
    void onlyABareTargetGoesWithoutData() {
        assertFalse(new DeviceChain(List.of(), new NullTarget()).needsData());
        assertTrue(new DeviceChain(List.of(new FaultStage(0, 0, 0, 0, 0, 0, 0)), new NullTarget()).needsData(),
                "declared data access does not yet decide copying");
        assertTrue(new DeviceChain(List.of(), OLD_TARGET).needsData());
    }

    @Test
    void aStageCacheMakesTheChainsCacheVolatile() {
        assertFalse(new DeviceChain(List.of(new ReadOnlyStage(true)), new NullTarget()).volatileCache());
        DeviceChain c = new DeviceChain(List.of(declaring(Capabilities.passThrough().withVolatileCache(true))),
                new NullTarget());
        assertTrue(c.volatileCache(), "FLUSH must reach a stage that caches");
        assertTrue(c.capabilities().volatileCache());
    }
}
