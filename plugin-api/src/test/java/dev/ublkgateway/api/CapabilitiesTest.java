package dev.ublkgateway.api;

import dev.ublkgateway.api.Capabilities.DataAccess;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class CapabilitiesTest {
    /** A stage as a plugin built for API 1.3 writes it: nothing declared. */
    static final BlockStage OLD_STAGE = q -> (r, next) -> next.submit(r);

    static Target oldTarget(boolean needsData, boolean volatileCache) {
        return new Target() {
            public TargetQueue openQueue(QueueContext q) { return r -> 0; }
            public boolean needsData() { return needsData; }
            public boolean volatileCache() { return volatileCache; }
            public void close() {}
        };
    }

    @Test
    void undeclaredComponentsGetTheSafeAssumptions() {
        assertEquals(new Capabilities(false, DataAccess.CHANGES, false), OLD_STAGE.capabilities());
        assertSame(Capabilities.UNDECLARED, OLD_STAGE.capabilities());
        assertEquals(new Capabilities(false, DataAccess.CHANGES, false), oldTarget(true, false).capabilities());
        assertEquals(new Capabilities(false, DataAccess.NONE, true), oldTarget(false, true).capabilities(),
                "a target's older needsData and volatileCache still count");
    }

    @Test
    void combiningTakesTheStrictestOfEach() {
        Capabilities counter = Capabilities.passThrough();
        Capabilities checksum = new Capabilities(true, DataAccess.READS, true);
        Capabilities cipher = new Capabilities(true, DataAccess.CHANGES, false);
        assertEquals(counter, counter.and(counter));
        assertEquals(checksum, counter.and(checksum));
        assertEquals(new Capabilities(true, DataAccess.CHANGES, true), checksum.and(cipher));
        assertEquals(new Capabilities(false, DataAccess.CHANGES, true), checksum.and(Capabilities.UNDECLARED));
        assertEquals(counter.and(cipher), cipher.and(counter), "order does not matter");
    }

    @Test
    void dataAccessQuestions() {
        assertFalse(Capabilities.passThrough().needsData());
        assertTrue(Capabilities.passThrough().withData(DataAccess.READS).needsData());
        assertFalse(Capabilities.passThrough().withData(DataAccess.READS).changesData());
        assertTrue(Capabilities.UNDECLARED.changesData());
        assertTrue(Capabilities.passThrough().withVolatileCache(true).volatileCache());
        assertFalse(Capabilities.passThrough().withMultiConnSafe(false).multiConnSafe());
        assertThrows(IllegalArgumentException.class, () -> new Capabilities(true, null, false));
    }

    @Test
    void zeroCopyReachesATargetOnlyThroughComponentsThatNeverTouchTheBytes() {
        Capabilities target = new Capabilities(true, DataAccess.CHANGES, true).withZeroCopy(true);
        Capabilities counter = Capabilities.passThrough();
        assertTrue(counter.and(target).zeroCopy());
        assertTrue(target.and(counter).zeroCopy(), "order does not matter");
        assertTrue(counter.and(counter).and(target).zeroCopy());
        assertFalse(new Capabilities(true, DataAccess.READS, false).and(target).zeroCopy(), "a checksum needs the bytes");
        assertFalse(Capabilities.UNDECLARED.and(target).zeroCopy(), "an old plugin keeps the copying path");
        assertFalse(counter.and(new Capabilities(true, DataAccess.CHANGES, false)).zeroCopy());
        assertFalse(new Capabilities(true, DataAccess.CHANGES, false).zeroCopy(), "the 1.4 constructor: no zero copy");
        assertEquals(-1, new BlockRequest() {
            public int op() { return 0; }
            public int flags() { return 0; }
            public long offset() { return 0; }
            public int length() { return 0; }
            public java.lang.foreign.MemorySegment buffer() { return java.lang.foreign.MemorySegment.NULL; }
            public int queue() { return 0; }
            public int tag() { return 0; }
            public void complete(int result) {}
        }.registeredBuffer(), "a request of an older frontend has no registered buffer");
    }
}
