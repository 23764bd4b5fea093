package dev.ublkgateway.core.queue;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.ChainQueue;
import dev.ublkgateway.core.log.LimitedLog;
import dev.ublkgateway.core.uring.Ring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/** The engine on a real ring, driven by a recording frontend on the test's thread. */
@Timeout(20)
class QueueEngineTest {
    private static final int DEPTH = 4;
    private final Arena arena = Arena.ofShared();
    private final Recorder frontend = new Recorder();
    private QueueEngine<QueueRequest> engine;

    /** Records what reaches the frontend; finished once it saw {@link #expected} events. */
    static final class Recorder implements QueueFrontend<QueueRequest> {
        final Map<Integer, Integer> replies = new HashMap<>();
        final List<long[]> own = new ArrayList<>();
        int expected;

        @Override public void onCompletion(int kind, long payload, int result, int cqeFlags) { own.add(new long[] {kind, payload, result}); }
        @Override public void reply(QueueRequest r, int result) { replies.put(r.tag(), result); }
        @Override public boolean finished() { return replies.size() + own.size() >= expected; }
    }

    /** A target whose queue the test supplies. */
    private record TestTarget(Function<QueueContext, TargetQueue> queues) implements Target {
        @Override public TargetQueue openQueue(QueueContext queue) { return queues.apply(queue); }
        @Override public void close() {}
    }

    private void open(Function<QueueContext, TargetQueue> queues) throws Exception {
        engine = new QueueEngine<>("test queue", new LimitedLog(5, 10_000, "test failures"), Ring.create(16, 0),
                0, DEPTH, 4096, 0, frontend);
        QueueRequest[] requests = new QueueRequest[DEPTH];
        for (int t = 0; t < DEPTH; t++) requests[t] = new QueueRequest(engine, t, arena.allocate(4096, 4096));
        engine.open(requests, new TestTarget(queues));
    }

    private void submit(int tag, int op) {
        QueueRequest r = engine.request(tag);
        r.set(op, 0, 0, op == BlockOp.READ ? 4096 : 0);
        engine.submit(r);
    }

    /** Submits, then runs the loop until the request is answered. */
    private int answer(int tag, int op) throws Exception {
        submit(tag, op);
        assertTrue(engine.busy());
        frontend.expected = 1;
        engine.loop();
        assertFalse(engine.busy());
        return frontend.replies.get(tag);
    }

    @AfterEach
    void close() {
        if (engine != null) engine.close();
        arena.close();
    }

    @Test
    void userDataCarriesKindTagAndCookie() {
        long ud = UserData.target(0x1234, -2);
        assertEquals(UserData.TARGET, UserData.kind(ud));
        assertEquals(0x1234, UserData.tag(ud));
        assertEquals(-2, UserData.cookie(ud));
        long own = UserData.of(7, 0xabcdefL);
        assertEquals(7, UserData.kind(own));
        assertEquals(0xabcdefL, UserData.payload(own));
        assertTrue(UserData.kind(UserData.of(UserData.WAKE, 0)) >= UserData.FRONTEND_KINDS);
    }

    @Test
    void frontendCompletionsReachTheFrontend() throws Exception {
        open(ctx -> r -> 0);
        engine.ring().prepNop(UserData.of(5, 1234));
        frontend.expected = 1;
        engine.loop();
        assertArrayEquals(new long[] {5, 1234, 0}, frontend.own.getFirst());
    }

    @Test
    void synchronousResultIsRepliedAtOnce() throws Exception {
        open(ctx -> r -> 4096);
        submit(1, BlockOp.READ);
        assertEquals(4096, frontend.replies.get(1));
        assertFalse(engine.busy());
    }

    @Test
    void targetCompletionIsRoutedBackToTheTarget() throws Exception {
        List<Integer> cookies = new ArrayList<>();
        open(ctx -> new RingTargetQueue() {
            final RingQueueContext rc = (RingQueueContext) ctx;
            final BlockRequest[] held = new BlockRequest[DEPTH];

            @Override
            public int submit(BlockRequest r) {
                try {
                    rc.ring().prepNop(rc.targetUserData(r.tag(), 77));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                held[r.tag()] = r;
                return PENDING;
            }

            @Override
            public void onRingCompletion(int tag, int cookie, int result) {
                cookies.add(cookie);
                held[tag].complete(512 + result);
            }
        });
        assertEquals(512, answer(2, BlockOp.READ));
        assertEquals(List.of(77), cookies);
    }

    @Test
    void resultFromAnotherThreadArrivesThroughTheMailbox() throws Exception {
        open(ctx -> r -> {
            Thread.ofPlatform().start(() -> r.complete(100));
            return TargetQueue.PENDING;
        });
        assertEquals(100, answer(0, BlockOp.FLUSH));
    }

    @Test
    void heldRequestIsResumed() throws Exception {
        StageQueue holding = (r, next) -> {
            Thread.ofPlatform().start(r::resume); // a stage passing a request on later, from its own thread
            return TargetQueue.PENDING;
        };
        open(ctx -> new ChainQueue(new StageQueue[] {holding}, r -> 4096, DEPTH));
        assertEquals(4096, answer(3, BlockOp.READ));
    }

    @Test
    void throwingStageFailsTheRequestWithEio() throws Exception {
        StageQueue throwing = (r, next) -> {
            throw new IllegalStateException("a plugin's bug");
        };
        open(ctx -> new ChainQueue(new StageQueue[] {throwing}, r -> 4096, DEPTH));
        submit(0, BlockOp.READ);
        assertEquals(-Errno.EIO, frontend.replies.get(0));
    }

    @Test
    void stageThrowingOnCompletionFailsTheRequestWithEio() throws Exception {
        StageQueue failsOnCompletion = new StageQueue() {
            @Override public int submit(BlockRequest r, TargetQueue next) { return next.submit(r); }
            @Override public int completed(BlockRequest r, int result) { throw new StackOverflowError(); }
        };
        open(ctx -> new ChainQueue(new StageQueue[] {failsOnCompletion}, r -> {
            Thread.ofPlatform().start(() -> r.complete(4096));
            return TargetQueue.PENDING;
        }, DEPTH));
        assertEquals(-Errno.EIO, answer(1, BlockOp.READ));
    }

    @Test
    void throwingTargetFailsOnlyItsRequest() throws Exception {
        open(ctx -> r -> {
            if (r.tag() == 0) throw new LinkageError("missing class");
            return 0;
        });
        submit(0, BlockOp.FLUSH);
        submit(1, BlockOp.FLUSH);
        assertEquals(-Errno.EIO, frontend.replies.get(0));
        assertEquals(0, frontend.replies.get(1));
    }
}
