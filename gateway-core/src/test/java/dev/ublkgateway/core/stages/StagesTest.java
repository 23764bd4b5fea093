package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.ChainQueue;
import dev.ublkgateway.core.chain.TestFrontend;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The chain mechanics and each built-in stage, over a scripted target. */
class StagesTest {
    static final QueueContext Q = new QueueContext() {
        public int queueId() { return 0; }
        public int depth() { return 8; }
        public int maxIoBytes() { return 1 << 20; }
    };

    static final class Req implements BlockRequest {
        int op, length, tag;
        long offset;
        Req(int op, long offset, int length) { this.op = op; this.offset = offset; this.length = length; }
        public int op() { return op; }
        public int flags() { return 0; }
        public long offset() { return offset; }
        public int length() { return length; }
        public MemorySegment buffer() { return MemorySegment.NULL; }
        public int queue() { return 0; }
        public int tag() { return tag; }
        public void complete(int result) { }
    }

    /** A target that answers synchronously unless told to go PENDING. */
    static final class Script implements TargetQueue {
        final List<String> seen = new ArrayList<>();
        boolean pending;
        public int submit(BlockRequest r) {
            seen.add(BlockOp.name(r.op()) + "@" + r.offset());
            return pending ? PENDING : r.op() == BlockOp.READ || r.op() == BlockOp.WRITE ? r.length() : 0;
        }
    }

    @Test
    void stagesRunInOrderAndUnwindInReverse() {
        List<String> log = new ArrayList<>();
        StageQueue a = new StageQueue() {
            public int submit(BlockRequest r, TargetQueue next) { log.add("a>"); return next.submit(r); }
            public int completed(BlockRequest r, int res) { log.add("<a" + res); return res; }
        };
        StageQueue b = new StageQueue() {
            public int submit(BlockRequest r, TargetQueue next) { log.add("b>"); return next.submit(r); }
            public int completed(BlockRequest r, int res) { log.add("<b" + res); return res - 1; }
        };
        Script t = new Script();
        ChainQueue chain = new ChainQueue(new StageQueue[] {a, b}, t, 8);
        assertEquals(4096, chain.submit(new Req(BlockOp.READ, 0, 4096)));
        assertEquals(List.of("a>", "b>"), log);
        t.pending = true;
        log.clear();
        Req r = new Req(BlockOp.WRITE, 8192, 4096);
        assertEquals(TargetQueue.PENDING, chain.submit(r));
        assertEquals(4095, chain.completed(r, 4096), "b's completion hook changed the result, then a saw it");
        assertEquals(List.of("a>", "b>", "<b4096", "<a4095"), log);
    }

    @Test
    void readOnlyRefusesChangesAndCanBeSwitched() {
        ReadOnlyStage ro = new ReadOnlyStage(true);
        Script t = new Script();
        StageQueue q = ro.openQueue(Q);
        assertEquals(-30, q.submit(new Req(BlockOp.WRITE, 0, 4096), t));
        assertEquals(-30, q.submit(new Req(BlockOp.DISCARD, 0, 4096), t));
        assertEquals(-30, q.submit(new Req(BlockOp.WRITE_ZEROES, 0, 4096), t));
        assertEquals(4096, q.submit(new Req(BlockOp.READ, 0, 4096), t));
        assertEquals(0, q.submit(new Req(BlockOp.FLUSH, 0, 0), t));
        ro.setEnabled(false);
        assertEquals(4096, q.submit(new Req(BlockOp.WRITE, 0, 4096), t));
        assertEquals(List.of("READ@0", "FLUSH@0", "WRITE@0"), t.seen);
    }

    @Test
    void faultHitsOnlyTheChosenOpsAndRange() {
        FaultConfig c = new FaultConfig(List.of("write"), "1MiB", "2MiB", "ENOSPC", null, 0, 1);
        FaultStage f = new FaultStage(c.opMask(), c.fromBytes(), c.toBytes(1L << 30), c.errno(), c.probability(), c.delayUs(), c.after());
        StageQueue q = f.openQueue(Q);
        Script t = new Script();
        assertEquals(4096, q.submit(new Req(BlockOp.WRITE, 0, 4096), t), "outside the range");
        assertEquals(4096, q.submit(new Req(BlockOp.READ, 1 << 20, 4096), t), "not a chosen op");
        assertEquals(4096, q.submit(new Req(BlockOp.WRITE, 1 << 20, 4096), t), "the first match passes (after: 1)");
        assertEquals(-28, q.submit(new Req(BlockOp.WRITE, (1 << 20) + 4096, 4096), t));
        assertEquals(-28, q.submit(new Req(BlockOp.WRITE, (1 << 20) - 512, 4096), t), "overlapping the start");
        assertEquals(4096, q.submit(new Req(BlockOp.WRITE, 2 << 20, 4096), t), "the end is exclusive");
    }

    @Test
    void faultConfigRejectsNonsense() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FaultConfig(List.of("wirte"), null, null, null, null, 0, 0));
        assertTrue(e.getMessage().startsWith("ops \"wirte\" is not an operation"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new FaultConfig(null, null, null, "EWHAT", null, 0, 0));
        assertTrue(e.getMessage().startsWith("error \"EWHAT\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new FaultConfig(null, null, null, "none", null, 0, 0));
        assertTrue(e.getMessage().contains("does nothing"), e.getMessage());
    }

    @Test
    void rateLimitHoldsRequestsToTheRateWithoutStallingTheQueue() throws Exception {
        RateLimitStage rl = new RateLimitStage(200, 0, 0, 1);
        Script t = new Script();
        try (TestFrontend f = new TestFrontend(t, rl.openQueue(Q))) {
            long t0 = System.nanoTime();
            List<TestFrontend.Req> rs = new ArrayList<>();
            for (int i = 0; i < 41; i++) rs.add(f.submit(BlockOp.READ, 0, 4096, i));
            f.onQueue(() -> {});
            double queued = (System.nanoTime() - t0) / 1e9;
            assertTrue(queued < 0.1, "the queue thread was busy for " + queued + " s taking 41 requests");
            for (TestFrontend.Req r : rs) assertEquals(4096, r.result());
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds >= 0.19, "41 requests at 200 IOPS took only " + seconds + " s");
            assertEquals(41, t.seen.size());
            rl.setLimits(0, 4L << 20); // 4 MiB/s: 1 MiB costs 0.25 s
            t0 = System.nanoTime();
            TestFrontend.Req a = f.submit(BlockOp.WRITE, 0, 1 << 20, 0), b = f.submit(BlockOp.WRITE, 0, 1 << 20, 1);
            assertEquals(1 << 20, a.result());
            assertEquals(1 << 20, b.result());
            seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds >= 0.45, "2 MiB at 4 MiB/s took only " + seconds + " s");
        }
    }

    @Test
    void faultDelaysHoldRequestsOffTheQueueThread() throws Exception {
        FaultConfig fail = new FaultConfig(List.of("write"), null, null, "ENOSPC", null, 100_000, 0);
        FaultConfig slow = new FaultConfig(List.of("read"), null, null, "none", null, 100_000, 0);
        Script t = new Script();
        StageQueue failing = new FaultStage(fail.opMask(), fail.fromBytes(), fail.toBytes(1L << 30), fail.errno(),
                fail.probability(), fail.delayUs(), fail.after()).openQueue(Q);
        StageQueue slowing = new FaultStage(slow.opMask(), slow.fromBytes(), slow.toBytes(1L << 30), slow.errno(),
                slow.probability(), slow.delayUs(), slow.after()).openQueue(Q);
        try (TestFrontend f = new TestFrontend(t, failing, slowing)) {
            long t0 = System.nanoTime();
            TestFrontend.Req w = f.submit(BlockOp.WRITE, 0, 4096, 0), r = f.submit(BlockOp.READ, 0, 4096, 1);
            TestFrontend.Req flush = f.submit(BlockOp.FLUSH, 0, 0, 2);
            assertEquals(0, flush.result(), "a request no fault matches passes at once");
            assertTrue((System.nanoTime() - t0) / 1e6 < 90, "the flush waited behind the delayed requests");
            assertEquals(-28, w.result());
            assertEquals(4096, r.result());
            assertTrue((System.nanoTime() - t0) / 1e6 >= 100, "delay of 100 ms applied");
            assertEquals(List.of("FLUSH@0", "READ@0"), t.seen, "the failed write never reached the target");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void statsCountsSyncAndAsyncRequests() {
        StatsStage s = new StatsStage();
        StageQueue q = s.openQueue(Q);
        Script t = new Script();
        for (int i = 0; i < 3; i++) q.submit(new Req(BlockOp.READ, 0, 4096), t);
        t.pending = true;
        Req w = new Req(BlockOp.WRITE, 0, 8192);
        w.tag = 5;
        assertEquals(TargetQueue.PENDING, q.submit(w, t));
        assertEquals(-5, q.completed(w, -5));
        Map<String, Object> snap = s.snapshot();
        Map<String, Object> read = (Map<String, Object>) snap.get("read");
        Map<String, Object> write = (Map<String, Object>) snap.get("write");
        assertEquals(3L, read.get("requests"));
        assertEquals(3L * 4096, read.get("bytes"));
        assertEquals(1L, write.get("requests"));
        assertEquals(1L, write.get("errors"));
        assertEquals(0L, write.get("bytes"));
    }
}
