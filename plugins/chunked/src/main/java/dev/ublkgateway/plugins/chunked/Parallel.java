package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** Runs a task for every index of a range on a few virtual threads at once; the first failure stops the rest. */
final class Parallel {
    private Parallel() {}

    @FunctionalInterface
    interface Task {
        void run(long index) throws IOException;
    }

    static void run(long count, int threads, Task task) throws IOException {
        AtomicLong next = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?>[] workers = new Future<?>[(int) Math.max(1, Math.min(threads, count))];
            for (int w = 0; w < workers.length; w++) {
                workers[w] = pool.submit(() -> {
                    for (long i; failure.get() == null && (i = next.getAndIncrement()) < count; ) {
                        try {
                            task.run(i);
                        } catch (IOException | RuntimeException | Error e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                });
            }
            for (Future<?> f : workers) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted");
                } catch (ExecutionException e) {
                    failure.compareAndSet(null, e.getCause());
                }
            }
        }
        Throwable t = failure.get();
        if (t instanceof IOException e) throw e;
        if (t instanceof RuntimeException e) throw e;
        if (t instanceof Error e) throw e;
    }
}
