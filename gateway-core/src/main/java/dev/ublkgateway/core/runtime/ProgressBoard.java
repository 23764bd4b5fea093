package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.ProgressReporter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Publishes one device's long operations in its {@link ProgressFile}: what a target reports through the
 * plugin API's {@link ProgressReporter}. Progress is rewritten at most every {@link #EVERY_MS} (a thread
 * that finds another writing, or the interval not over, only counts); a start and an end are always written.
 */
public final class ProgressBoard implements ProgressReporter {
    private static final Logger LOG = Logger.getLogger(ProgressBoard.class.getName());
    static final long EVERY_MS = 250;
    /** Finished operations kept in the file, newest last. */
    static final int KEEP_FINISHED = 8;

    private final Path runDir;
    private final String device;
    private final long pid;
    private final LongSupplier clock;
    private final List<Op> ops = new ArrayList<>();
    private final ReentrantLock writing = new ReentrantLock();
    private volatile long lastWrite;
    private boolean warned;

    public ProgressBoard(Path runDir, String device, long pid, LongSupplier clockMillis) {
        this.runDir = runDir;
        this.device = device;
        this.pid = pid;
        this.clock = clockMillis;
    }

    public ProgressBoard(Path runDir, String device) {
        this(runDir, device, ProcessHandle.current().pid(), System::currentTimeMillis);
    }

    @Override
    public Progress start(String operation, long totalBytes) {
        Op op = new Op(operation, Math.max(0, totalBytes), clock.getAsLong());
        synchronized (ops) {
            ops.add(op);
        }
        publish(true);
        return op;
    }

    /** Forgets the oldest finished operations beyond {@link #KEEP_FINISHED}. */
    private void prune() {
        synchronized (ops) {
            long finished = ops.stream().filter(o -> o.state != null).count();
            for (int i = 0; i < ops.size() && finished > KEEP_FINISHED; i++) {
                if (ops.get(i).state != null) {
                    ops.remove(i--);
                    finished--;
                }
            }
        }
    }

    /** Writes the file now ({@code force}) or when the interval since the last write is over. */
    void publish(boolean force) {
        if (!force && clock.getAsLong() - lastWrite < EVERY_MS) return;
        if (force) writing.lock();
        else if (!writing.tryLock()) return;
        try {
            lastWrite = clock.getAsLong();
            List<OperationProgress> snapshot;
            synchronized (ops) {
                snapshot = ops.stream().map(Op::snapshot).toList();
            }
            new ProgressFile(device, pid, snapshot).write(runDir);
        } catch (IOException e) {
            if (!warned) LOG.warning(device + ": cannot publish progress in " + runDir + ": " + e.getMessage());
            warned = true;
        } finally {
            writing.unlock();
        }
    }

    private final class Op implements Progress {
        final String name;
        final long startedAt;
        final AtomicLong total, done = new AtomicLong();
        volatile String state; // null while running
        volatile String failure;
        volatile long updatedAt;

        Op(String name, long total, long startedAt) {
            this.name = name;
            this.total = new AtomicLong(total);
            this.startedAt = startedAt;
            this.updatedAt = startedAt;
        }

        OperationProgress snapshot() {
            return new OperationProgress(name, total.get(), done.get(), startedAt, updatedAt,
                    state == null ? OperationProgress.RUNNING : state, failure);
        }

        @Override
        public void advance(long bytes) {
            done.addAndGet(bytes);
            total.accumulateAndGet(done.get(), Math::max);
            updatedAt = clock.getAsLong();
            publish(false);
        }

        @Override
        public void total(long bytes) {
            total.set(Math.max(bytes, done.get()));
            updatedAt = clock.getAsLong();
            publish(false);
        }

        @Override
        public void done() {
            end(OperationProgress.DONE, null);
        }

        @Override
        public void failed(String message) {
            end(OperationProgress.FAILED, message);
        }

        private void end(String how, String why) {
            if (state != null) return;
            if (how.equals(OperationProgress.DONE)) done.set(Math.max(done.get(), total.get())); // nothing is left
            failure = why;
            updatedAt = clock.getAsLong();
            state = how;
            prune();
            publish(true);
        }
    }
}
