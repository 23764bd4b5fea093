package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.StageQueue;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.ublkgateway.core.stages.script.ScriptTestSupport.*;

/**
 * JMH (not a test; {@code tests/bench/script-hook-jmh.sh} runs it): the per-call cost of a policy
 * hook once warm. One request goes through the script stage to a target that answers at once;
 * {@code none} is the target alone. Requests rotate over 64 slots, a quarter of them writes, all
 * outside protect-range.js's protected range, so every hook allows them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ScriptHookBench {
    @Param({"none", "trivial", "protect-range"})
    public String script;

    /** Where examples/policies/protect-range.js is (the benchmark runs from gateway-core). */
    @Param("../examples/policies/protect-range.js")
    public String protectRange;

    private final BlockRequest[] reqs = new BlockRequest[64];
    private final CountingTarget target = new CountingTarget();
    private ScriptStage stage;
    private StageQueue queue;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        for (int i = 0; i < reqs.length; i++) {
            reqs[i] = request(i % 4 == 0 ? BlockOp.WRITE : BlockOp.READ, (2L << 20) + i * 4096L, 4096);
        }
        if (script.equals("none")) return;
        Path dir = Files.createTempDirectory("hook-bench");
        Path js = script.equals("trivial") ? write(dir, "trivial.js", "export function onRequest(req) {}\n")
                : Path.of(protectRange);
        stage = stage(js, false, 1000, 1000, List.of());
        queue = open(stage);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (queue != null) queue.close();
        if (stage != null) stage.close();
    }

    @Benchmark
    public int onRequest() {
        BlockRequest r = reqs[next++ & 63];
        return queue == null ? target.submit(r) : queue.submit(r, target);
    }
}
