package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.TestFrontend;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.stages.RateLimitStage;
import dev.ublkgateway.core.stages.ReadOnlyStage;
import dev.ublkgateway.core.stages.StatsStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;

import static dev.ublkgateway.core.stages.script.ScriptTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class ScriptStageTest {
    @TempDir
    Path dir;

    private int submit(StageQueue q, CountingTarget t, int op, long offset, int length) {
        return q.submit(request(op, offset, length), t);
    }

    @Test
    void allowDenyDelayAndTag() throws IOException {
        Path js = write(dir, "p.js", """
                export function onRequest(req) {
                  if (req.op === 'write' && req.offset < 4096) return gateway.deny('EPERM');
                  if (req.op === 'write' && req.offset === 8192) return {deny: 'EROFS'};
                  if (req.op === 'read' && req.offset === 4096) return gateway.delay(2000);
                  if (req.op === 'read' && req.offset === 12288) return gateway.tag('hot');
                  if (req.op === 'discard') return {deny: 28};
                }
                """);
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(-Errno.EPERM, submit(q, t, BlockOp.WRITE, 0, 4096));
            assertEquals(-Errno.EROFS, submit(q, t, BlockOp.WRITE, 8192, 4096));
            assertEquals(-Errno.ENOSPC, submit(q, t, BlockOp.DISCARD, 0, 4096));
            assertEquals(0, t.seen, "denied requests must not reach the target");
            assertEquals(4096, submit(q, t, BlockOp.WRITE, 1 << 20, 4096));
            assertEquals(TargetQueue.PENDING, submit(q, t, BlockOp.READ, 4096, 4096), "a delayed request is held");
            assertEquals(1, t.seen, "and does not reach the target before its time");
            assertEquals(4096, submit(q, t, BlockOp.READ, 12288, 4096));
            assertEquals(2, t.seen, "the held read is resumed through a frontend, which this test has none of");
            HookQueue hq = (HookQueue) q;
            assertEquals(3, hq.denied);
            assertEquals(1, hq.delayed);
            assertEquals(1, hq.tagged[s.scope.tag("hot")]);
        }
    }

    @Test
    void aDelayHoldsTheRequestWhileTheQueueServesOthers() throws Exception {
        Path js = write(dir, "d.js", """
                export function onRequest(req) {
                  if (req.op === 'write') return gateway.delay(1000000);
                }
                """);
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            try (TestFrontend f = new TestFrontend(t, q)) {
                long t0 = System.nanoTime();
                TestFrontend.Req w = f.submit(BlockOp.WRITE, 0, 4096, 1);
                assertEquals(4096, f.submit(BlockOp.READ, 0, 4096, 2).result());
                // no wall-clock bound on the read (a loaded machine may be slow): the write must still be held
                assertFalse(w.answer.isDone(), "the read waited behind the delayed write");
                assertEquals(4096, w.result());
                assertTrue((System.nanoTime() - t0) / 1e6 >= 1000, "delay of 1 s applied");
                assertEquals(2, t.seen);
                assertEquals(1, ((HookQueue) q).delayed);
            }
        }
    }

    @Test
    void taggedRequestsShowInTheDevicesStatsStage() throws IOException {
        Path js = write(dir, "t.js", """
                export function onRequest(req) {
                  if (req.op === 'write') return gateway.tag(req.offset < 4096 ? 'boot' : 'data');
                }
                """);
        StatsStage stats = new StatsStage();
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of(stats)); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            submit(q, t, BlockOp.WRITE, 0, 4096);
            submit(q, t, BlockOp.WRITE, 8192, 4096);
            submit(q, t, BlockOp.WRITE, 16384, 4096);
            submit(q, t, BlockOp.READ, 0, 4096);
            assertEquals(java.util.Map.of("boot", 1L, "data", 2L), stats.snapshot().get("tags"));
        } finally {
            stats.close();
        }
    }

    @Test
    void requestObjectCarriesTheFields() throws IOException {
        Path js = write(dir, "f.js", """
                export function onRequest(req) {
                  const ok = req.op === 'write' && req.offset === 2 ** 40 && req.length === 8192 && req.queue === 0
                    && req.device === 'dev0' && req.fua === false && req.flags === 0;
                  return ok ? undefined : gateway.deny('EINVAL');
                }
                """);
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(8192, submit(q, new CountingTarget(), BlockOp.WRITE, 1L << 40, 8192));
        }
    }

    @Test
    void onFlushTakesFlushesAndOnRequestTheRest() throws IOException {
        Path js = write(dir, "fl.js", """
                export function onRequest(req) { return gateway.deny('EPERM'); }
                export function onFlush(req) { return req.op === 'flush' ? undefined : gateway.deny('EINVAL'); }
                """);
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(0, submit(q, t, BlockOp.FLUSH, 0, 0));
            assertEquals(-Errno.EPERM, submit(q, t, BlockOp.READ, 0, 4096));
        }
    }

    @Test
    void throwingHookFailsClosedWithEio() throws IOException {
        Path js = write(dir, "t.js", "export function onRequest(req) { throw new Error('boom'); }\n");
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(-Errno.EIO, submit(q, t, BlockOp.READ, 0, 4096));
            assertEquals(0, t.seen);
            assertEquals(1, ((HookQueue) q).failures);
        }
    }

    @Test
    void throwingHookFailsOpenWhenConfigured() throws IOException {
        Path js = write(dir, "t.js", "export function onRequest(req) { return 'nonsense'; }\n");
        try (ScriptStage s = stage(js, true, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(4096, submit(q, t, BlockOp.READ, 0, 4096));
            assertEquals(1, t.seen);
            assertEquals(1, ((HookQueue) q).failures);
        }
    }

    @Test
    void badErrnoIsAFailure() throws IOException {
        Path js = write(dir, "e.js", "export function onRequest(req) { return gateway.deny('ENOTANERRNO'); }\n");
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(-Errno.EIO, submit(q, new CountingTarget(), BlockOp.READ, 0, 4096));
        }
    }

    @Test
    void callOverTimeBudgetIsStoppedAndTheContextStaysUsable() throws IOException {
        Path js = write(dir, "loop.js", """
                export function onRequest(req) {
                  if (req.offset === 0) { while (true) {} }
                }
                """);
        try (ScriptStage s = stage(js, false, 50, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(4096, submit(q, t, BlockOp.READ, 8192, 4096), "the first call (more budget) is a quick one");
            long t0 = System.nanoTime();
            assertEquals(-Errno.EIO, submit(q, t, BlockOp.READ, 0, 4096));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 40 && ms < 4000, "stopped after about its budget (50 ms), not the first call's, took " + ms + " ms");
            assertEquals(4096, submit(q, t, BlockOp.READ, 4096, 4096), "next call runs normally");
        }
    }

    @Test
    void timedOutCallFailsOpenWhenConfigured() throws IOException {
        Path js = write(dir, "loop.js", "export function onRequest(req) { if (req.offset === 0) for (;;) {} }\n");
        try (ScriptStage s = stage(js, true, 20, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(4096, submit(q, t, BlockOp.READ, 4096, 4096));
            assertEquals(4096, submit(q, t, BlockOp.READ, 0, 4096));
            assertEquals(2, t.seen);
            assertEquals(1, ((HookQueue) q).failures);
        }
    }

    @Test
    void readOnlyWithoutAReadOnlyStageIsEnforcedByTheHook() throws IOException {
        Path js = write(dir, "ro.js", """
                export function onRequest(req) {
                  if (req.op === 'read' && req.offset === 0) gateway.setReadOnly(true);
                  if (req.op === 'read' && req.offset === 4096) gateway.setReadOnly(false);
                }
                """);
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(4096, submit(q, t, BlockOp.WRITE, 0, 4096));
            submit(q, t, BlockOp.READ, 0, 4096);
            assertEquals(-Errno.EROFS, submit(q, t, BlockOp.WRITE, 0, 4096));
            assertEquals(4096, submit(q, t, BlockOp.READ, 8192, 4096));
            submit(q, t, BlockOp.READ, 4096, 4096);
            assertEquals(4096, submit(q, t, BlockOp.WRITE, 0, 4096));
        }
    }

    @Test
    void onTickDrivesTheDevicesReadOnlyAndRateLimitStages() throws Exception {
        Path js = write(dir, "tick.js", """
                export function onTick(stats) {
                  const n = gateway.count('ticks');
                  gateway.state.set('last', {requests: stats.requests, readOnly: stats.readOnly, rl: stats.rateLimit});
                  gateway.setReadOnly(n % 2 === 1);
                  gateway.setRateLimit({iops: 1000 * n, bandwidth: 0});
                }
                """);
        ReadOnlyStage ro = new ReadOnlyStage(false);
        RateLimitStage rl = new RateLimitStage(5, 0, 100, 1);
        try (ScriptStage s = stage(js, false, 1000, 20, List.of(rl, ro)); StageQueue q = open(s)) {
            submit(q, new CountingTarget(), BlockOp.READ, 0, 4096);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (s.counters().getOrDefault("ticks", 0L) < 3 && System.nanoTime() < deadline) Thread.sleep(5);
            long ticks = s.counters().get("ticks");
            assertTrue(ticks >= 3);
            Thread.sleep(5);
            assertTrue(rl.iops() >= 1000, "rate limit set by onTick: " + rl.iops());
            assertNotNull(s.scope.stateGet("last"));
            assertTrue(s.scope.stateGet("last").contains("\"rl\":{\"iops\""), s.scope.stateGet("last"));
        }
    }

    @Test
    void setRateLimitWithoutARateLimitStageIsAClearFailure() throws IOException {
        Path js = write(dir, "rl.js", "export function onRequest(req) { gateway.setRateLimit({iops: 5}); }\n");
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(-Errno.EIO, submit(q, new CountingTarget(), BlockOp.READ, 0, 4096));
        }
    }

    @Test
    void attachAndDetachRunOnceAndStateSurvivesReload() throws Exception {
        Path js = write(dir, "a.js", """
                export function onAttach(dev) { gateway.state.set('attached', (gateway.state.get('attached') || 0) + 1);
                  gateway.state.set('size', dev.size); }
                export function onDetach(dev) { gateway.count('detached'); }
                export function onRequest(req) { return gateway.deny(gateway.state.get('attached') === 1 ? 'EPERM' : 'EROFS'); }
                """);
        ScriptStage s = stage(js, false, 1000, 1000, List.of());
        StageQueue q = open(s);
        CountingTarget t = new CountingTarget();
        assertEquals(-Errno.EPERM, submit(q, t, BlockOp.READ, 0, 4096));
        assertEquals(String.valueOf(1L << 30), s.scope.stateGet("size"));
        touchAndWrite(js, Files.readString(js) + "\n// v2\n");
        awaitVersion(s, 2);
        assertEquals(-Errno.EROFS, submit(q, t, BlockOp.READ, 0, 4096), "onAttach ran again after reload; state kept");
        q.close();
        s.close();
        assertEquals(1L, s.counters().get("detached"));
    }

    @Test
    void goodReloadIsSwappedInBetweenRequests() throws Exception {
        Path js = write(dir, "r.js", "export function onRequest(req) { return gateway.deny('EPERM'); }\n");
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(-Errno.EPERM, submit(q, t, BlockOp.WRITE, 0, 4096));
            touchAndWrite(js, "export function onRequest(req) { return gateway.deny('EROFS'); }\n");
            awaitVersion(s, 2);
            assertEquals(-Errno.EROFS, submit(q, t, BlockOp.WRITE, 0, 4096));
        }
    }

    @Test
    void brokenReloadIsRejectedAndTheOldVersionKeepsRunning() throws Exception {
        Path js = write(dir, "r.js", "export function onRequest(req) { return gateway.deny('EPERM'); }\n");
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            touchAndWrite(js, "export function onRequest(req) { return gateway.deny('EROFS') \n");
            Thread.sleep(3 * ScriptStage.RELOAD_POLL_NANOS / 1_000_000);
            assertEquals(1, s.version().generation());
            assertEquals(-Errno.EPERM, submit(q, t, BlockOp.WRITE, 0, 4096));
            touchAndWrite(js, "export function onRequst(req) { }\n"); // misspelt hook: rejected as well
            Thread.sleep(3 * ScriptStage.RELOAD_POLL_NANOS / 1_000_000);
            assertEquals(1, s.version().generation());
            touchAndWrite(js, "export function onRequest(req) { return gateway.deny('EROFS'); }\n");
            awaitVersion(s, 2);
            assertEquals(-Errno.EROFS, submit(q, t, BlockOp.WRITE, 0, 4096));
        }
    }

    @Test
    void brokenScriptFailsAtStartWithItsPosition() throws IOException {
        Path js = write(dir, "bad.js", "export function onRequest(req) {\n  return gateway.deny('EPERM'\n}\n");
        IOException e = assertThrows(IOException.class, () -> stage(js, false, 1000, 1000, List.of()));
        assertTrue(e.getMessage().contains("bad.js:3:"), e.getMessage());
    }

    private static void touchAndWrite(Path p, String text) throws IOException {
        FileTime before = Files.getLastModifiedTime(p);
        Files.writeString(p, text);
        // make sure the change is visible even on file systems with coarse timestamps
        Files.setLastModifiedTime(p, FileTime.from(Instant.ofEpochMilli(Math.max(before.toMillis() + 2000,
                System.currentTimeMillis()))));
    }

    private static void awaitVersion(ScriptStage s, long generation) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (s.version().generation() < generation && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(generation, s.version().generation(), "reloaded");
    }
}
