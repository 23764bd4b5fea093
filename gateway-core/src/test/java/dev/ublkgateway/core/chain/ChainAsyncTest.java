package dev.ublkgateway.core.chain;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Stages that hold requests and finish them later, from other threads, through a frontend's loop. */
class ChainAsyncTest {
    final List<String> log = new CopyOnWriteArrayList<>();

    /** Logs its completion hook and passes everything on. */
    StageQueue observer(String name) {
        return new StageQueue() {
            public int submit(BlockRequest r, TargetQueue next) { return next.submit(r); }
            public int completed(BlockRequest r, int res) { log.add(name + res); return res; }
        };
    }

    /** Holds requests whose tag is odd (without calling next); its completion hook subtracts 1. */
    final class Holder implements StageQueue {
        final String name;
        final LinkedBlockingQueue<BlockRequest> held = new LinkedBlockingQueue<>();
        Holder(String name) { this.name = name; }
        public int submit(BlockRequest r, TargetQueue next) {
            if ((r.tag() & 1) == 0) return next.submit(r);
            held.add(r);
            return TargetQueue.PENDING;
        }
        public int completed(BlockRequest r, int res) { log.add(name + res); return res - 1; }
        BlockRequest take() throws InterruptedException {
            BlockRequest r = held.poll(10, TimeUnit.SECONDS);
            assertNotNull(r, name + " holds no request");
            return r;
        }
    }

    /** Answers at once, or goes PENDING for the tags in {@code pendingTags} (kept for the test to finish). */
    static final class Target implements TargetQueue {
        final List<Integer> seen = new CopyOnWriteArrayList<>();
        final ConcurrentHashMap<Integer, BlockRequest> pending = new ConcurrentHashMap<>();
        final List<Integer> pendingTags = new CopyOnWriteArrayList<>();
        public int submit(BlockRequest r) {
            seen.add(r.tag());
            if (pendingTags.contains(r.tag())) {
                pending.put(r.tag(), r);
                return PENDING;
            }
            return r.length();
        }
    }

    @Test
    void aHeldRequestDoesNotStallTheQueueAndResumesThroughTheStageBelow() throws Exception {
        Target t = new Target();
        Holder h = new Holder("h");
        try (TestFrontend f = new TestFrontend(t, observer("a"), h)) {
            TestFrontend.Req held = f.submit(BlockOp.READ, 0, 4096, 1);
            BlockRequest r = h.take();
            TestFrontend.Req passing = f.submit(BlockOp.READ, 8192, 512, 2);
            assertEquals(512, passing.result(), "other requests flow while one is held");
            assertFalse(held.answer.isDone());
            assertEquals(List.of(2), t.seen);
            Thread other = new Thread(r::resume); // resumed from another thread, like a timer
            other.start();
            other.join();
            assertEquals(4095, held.result(), "the target's answer passed through h's and a's completion hooks");
            assertEquals(List.of(2, 1), t.seen);
            assertEquals(List.of("h4096", "a4095"), log);
        }
    }

    @Test
    void aHoldingStageThatAnswersItselfUnwindsOnlyTheStagesAboveIt() throws Exception {
        Target t = new Target();
        Holder h = new Holder("h");
        try (TestFrontend f = new TestFrontend(t, observer("a"), h, observer("below"))) {
            TestFrontend.Req held = f.submit(BlockOp.WRITE, 0, 4096, 3);
            BlockRequest r = h.take();
            new Thread(() -> r.complete(-28)).start();
            assertEquals(-28, held.result());
            assertEquals(List.of("a-28"), log, "neither h (it answered) nor the stage below it (never reached) unwinds");
            assertTrue(t.seen.isEmpty());
        }
    }

    @Test
    void aStageMayHoldARequestAfterTheTargetAnsweredIt() throws Exception {
        Target t = new Target();
        LinkedBlockingQueue<Object[]> later = new LinkedBlockingQueue<>();
        StageQueue slowAfter = new StageQueue() { // e.g. verifies read data on a worker pool
            public int submit(BlockRequest r, TargetQueue next) {
                int res = next.submit(r);
                later.add(new Object[] {r, res});
                return TargetQueue.PENDING;
            }
            public int completed(BlockRequest r, int res) { log.add("slow" + res); return res; }
        };
        try (TestFrontend f = new TestFrontend(t, observer("a"), slowAfter)) {
            TestFrontend.Req req = f.submit(BlockOp.READ, 0, 4096, 0);
            Object[] got = later.poll(10, TimeUnit.SECONDS);
            assertNotNull(got);
            ((BlockRequest) got[0]).complete((Integer) got[1]);
            assertEquals(4096, req.result());
            assertEquals(List.of("a4096"), log);
            assertEquals(List.of(0), t.seen, "the target ran once");
        }
    }

    @Test
    void aResumedRequestThatGoesPendingBelowUnwindsEveryStageOnCompletion() throws Exception {
        Target t = new Target();
        t.pendingTags.add(5);
        Holder h = new Holder("h");
        try (TestFrontend f = new TestFrontend(t, observer("a"), h, observer("c"))) {
            TestFrontend.Req req = f.submit(BlockOp.READ, 0, 4096, 5);
            h.take().resume();
            for (int i = 0; i < 1000 && !t.pending.containsKey(5); i++) Thread.sleep(10);
            BlockRequest atTarget = t.pending.get(5);
            assertNotNull(atTarget, "the resumed request reached the target");
            assertFalse(req.answer.isDone());
            atTarget.complete(4096);
            assertEquals(4095, req.result());
            assertEquals(List.of("c4096", "h4096", "a4095"), log);
        }
    }

    @Test
    void holdsNestDeeperStagesMayHoldTheRequestAgainAfterResume() throws Exception {
        Target t = new Target();
        Holder h1 = new Holder("h1"), h2 = new Holder("h2");
        try (TestFrontend f = new TestFrontend(t, observer("a"), h1, h2)) {
            TestFrontend.Req req = f.submit(BlockOp.READ, 0, 4096, 7);
            h1.take().resume();
            h2.take().resume();
            assertEquals(4094, req.result());
            assertEquals(List.of("h24096", "h14095", "a4094"), log);
        }
    }

    @Test
    void resumingARequestNoStageHoldsIsIgnored() throws Exception {
        Target t = new Target();
        t.pendingTags.add(2);
        try (TestFrontend f = new TestFrontend(t, observer("a"))) {
            TestFrontend.Req req = f.submit(BlockOp.READ, 0, 4096, 2);
            f.onQueue(() -> assertEquals(TargetQueue.PENDING, f.chain().resume(req)));
            assertFalse(req.answer.isDone(), "the request still belongs to the target");
            f.onQueue(() -> t.pending.get(2).complete(4096));
            assertEquals(4096, req.result());
            assertEquals(List.of("a4096"), log);
        }
    }

    @Test
    void aRequestTheTargetAnswersAtOnceNeedsNoUnwinding() throws Exception {
        Target t = new Target();
        Holder h = new Holder("h");
        try (TestFrontend f = new TestFrontend(t, observer("a"), h)) {
            assertEquals(4096, f.submit(BlockOp.READ, 0, 4096, 4).result());
            assertTrue(log.isEmpty(), "completion hooks run only for requests that went PENDING");
        }
    }
}
