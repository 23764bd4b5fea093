package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.stages.StagesTest.Req;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * JMH (not a test; {@code tests/bench/stats-stage-jmh.sh} runs it): what the stats stage costs per
 * request. One 4 KiB read goes down through the stage to a target that answers later, then comes back
 * through {@link StageQueue#completed}, as the queue thread drives a stage for a request the target
 * answers from io_uring. {@code pass-through} is a read-only stage switched off (the chain's floor);
 * {@code stats+snapshots} is the stats stage while another thread takes the snapshot the gateway
 * publishes every millisecond.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StatsStageBench {
    @Param({"pass-through", "stats", "stats+snapshots"})
    public String stage;

    /** Answers every request later, as a target waiting on io_uring does. */
    private static final TargetQueue LATER = r -> TargetQueue.PENDING;

    private final BlockRequest read = new Req(BlockOp.READ, 1 << 20, 4096);
    private BlockStage chain;
    private StageQueue queue;
    private Thread reader;
    private volatile boolean running;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        chain = stage.equals("pass-through") ? new ReadOnlyStage(false) : new StatsStage();
        queue = chain.openQueue(StagesTest.Q);
        if (!stage.equals("stats+snapshots")) return;
        StatsStage stats = (StatsStage) chain;
        running = true;
        reader = Thread.ofPlatform().daemon().name("stats-snapshots").start(() -> {
            while (running) {
                stats.snapshot();
                LockSupport.parkNanos(1_000_000);
            }
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        running = false;
        if (reader != null) reader.join();
        queue.close();
    }

    @Benchmark
    public int request() {
        queue.submit(read, LATER);
        return queue.completed(read, 4096);
    }
}
