package dev.ublkgateway.core.chain;

import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A frontend for tests, shaped like the real ones: one "queue thread" that submits requests to a
 * chain and takes completions and resumes from any thread back onto itself.
 */
public final class TestFrontend implements AutoCloseable {
    private final ExecutorService queueThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-queue"));
    private final ChainQueue chain;
    private volatile Thread thread;

    public TestFrontend(TargetQueue target, StageQueue... stages) {
        this.chain = new ChainQueue(stages, target, 64);
    }

    public ChainQueue chain() {
        return chain;
    }

    /** Whether the caller runs on the queue thread (stages may check where they are called). */
    public boolean onQueueThread() {
        return Thread.currentThread() == thread;
    }

    /** Submits on the queue thread; the future completes with the frontend's answer. */
    public Req submit(int op, long offset, int length, int tag) {
        Req r = new Req(op, offset, length, tag);
        run(() -> {
            int res = chain.submit(r);
            if (res != TargetQueue.PENDING) r.answer.complete(res);
        });
        return r;
    }

    private void run(Runnable task) {
        queueThread.execute(() -> {
            thread = Thread.currentThread();
            task.run();
        });
    }

    /** Runs a task on the queue thread and waits for it: what the queue thread was free to do meanwhile. */
    public void onQueue(Runnable task) throws Exception {
        CompletableFuture<Void> f = new CompletableFuture<>();
        run(() -> {
            try {
                task.run();
                f.complete(null);
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        f.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        queueThread.shutdown();
        queueThread.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** One request; {@link #answer} completes when the frontend would reply to the kernel. */
    public final class Req implements BlockRequest {
        public final CompletableFuture<Integer> answer = new CompletableFuture<>();
        private final int op, length, tag;
        private final long offset;

        Req(int op, long offset, int length, int tag) {
            this.op = op;
            this.offset = offset;
            this.length = length;
            this.tag = tag;
        }

        public int result() throws Exception {
            return answer.get(10, TimeUnit.SECONDS);
        }

        @Override public int op() { return op; }
        @Override public int flags() { return 0; }
        @Override public long offset() { return offset; }
        @Override public int length() { return length; }
        @Override public MemorySegment buffer() { return MemorySegment.NULL; }
        @Override public int queue() { return 0; }
        @Override public int tag() { return tag; }

        @Override
        public void complete(int result) {
            run(() -> answer.complete(chain.completed(this, result)));
        }

        @Override
        public void resume() {
            run(() -> {
                int res = chain.resume(this);
                if (res != TargetQueue.PENDING) answer.complete(res);
            });
        }
    }
}
