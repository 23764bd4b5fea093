package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.stages.StagesTest.Req;
import dev.ublkgateway.core.stats.StatsSample;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The stats stage's latency percentiles are the real ones (within HdrHistogram's 1%), not the bounds
 * of power-of-two buckets: latencies come from a clock the target advances by a known amount.
 */
class StatsLatencyTest {
    /** The clock, and a target that takes {@code nextMicros} of it to answer. */
    static final class Timed implements TargetQueue {
        long now = 1_000_000_000L, nextMicros;
        boolean pending;

        public int submit(BlockRequest r) {
            now += nextMicros * 1000;
            return pending ? PENDING : r.length();
        }
    }

    private final Timed target = new Timed();
    private final StatsStage stats = new StatsStage(() -> target.now);
    private final StageQueue queue = stats.openQueue(StagesTest.Q);

    private void request(int op, long micros) {
        target.nextMicros = micros;
        queue.submit(new Req(op, 0, 4096), target);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> op(Map<String, Object> snapshot, String name) {
        return (Map<String, Object>) snapshot.get(name);
    }

    private static void near(double expected, Object actual, String what) {
        double a = ((Number) actual).doubleValue();
        assertTrue(Math.abs(a - expected) <= expected * 0.01, what + ": " + a + " is not within 1% of " + expected);
    }

    @Test
    void uniformLatenciesHaveTheirTruePercentiles() {
        // 1..1000 us once each, shuffled: p50 = 500, p90 = 900, p99 = 990, p99.9 = 999, max = 1000
        long[] micros = new long[1000];
        for (int i = 0; i < micros.length; i++) micros[i] = (i * 617L) % 1000 + 1;
        assertEquals(500500, Arrays.stream(micros).sum(), "each latency once");
        for (long us : micros) request(BlockOp.WRITE, us);
        Map<String, Object> write = op(stats.snapshot(), "write");
        assertEquals(1000L, write.get("requests"));
        near(500, write.get("p50_us"), "p50"); // a power-of-two bucket bound says 524.288
        near(900, write.get("p90_us"), "p90");
        near(990, write.get("p99_us"), "p99"); // ... and 1048.576
        near(999, write.get("p99_9_us"), "p99.9");
        near(1000, write.get("max_us"), "max");
        assertEquals(0.0, op(stats.snapshot(), "read").get("p99_us"), "no reads: no latency");
    }

    @Test
    void aSlowTailShowsAtP999NotP99() {
        for (int i = 0; i < 990; i++) request(BlockOp.READ, 10);
        for (int i = 0; i < 10; i++) request(BlockOp.READ, 5000);
        Map<String, Object> read = op(stats.snapshot(), "read");
        near(10, read.get("p50_us"), "p50");
        near(10, read.get("p99_us"), "p99");
        near(5000, read.get("p99_9_us"), "p99.9");
        near(5000, read.get("max_us"), "max");
    }

    @Test
    void requestsAnsweredLaterAreTimedUntilTheirAnswer() {
        target.pending = true;
        Req w = new Req(BlockOp.FLUSH, 0, 0);
        w.tag = 3;
        assertEquals(TargetQueue.PENDING, queue.submit(w, target));
        target.now += 250_000; // the answer comes 250 us later
        queue.completed(w, 0);
        Map<String, Object> flush = op(stats.snapshot(), "flush");
        near(250, flush.get("p50_us"), "p50");
        near(250, flush.get("max_us"), "max");
    }

    @Test
    void theDifferenceOfTwoSnapshotsHasThatIntervalsPercentiles() {
        for (int i = 0; i < 1000; i++) request(BlockOp.WRITE, 10);
        StatsSample first = StatsSample.from(stats.snapshot());
        for (int i = 0; i < 1000; i++) request(BlockOp.WRITE, 2000);
        StatsSample second = StatsSample.from(stats.snapshot());

        assertEquals(2000, second.ops().get("write").requests(), "totals since the device came up");
        assertEquals(10, second.ops().get("write").latency().getValueAtPercentile(50) / 1000, 1);
        StatsSample interval = second.since(first);
        StatsSample.Op w = interval.ops().get("write");
        assertEquals(1000, w.requests());
        assertEquals(1000L * 4096, w.bytes());
        assertEquals(1000, w.latency().getTotalCount());
        assertEquals(2000, w.latency().getValueAtPercentile(50) / 1000.0, 20, "the interval's median, not the total's");
        assertEquals(2000, w.latency().getMinValue() / 1000.0, 20, "nothing from before the interval");
    }

    @Test
    void aClosedQueuesLatenciesStayInTheTotals() {
        request(BlockOp.READ, 100);
        queue.close();
        stats.latencies();
        StageQueue other = stats.openQueue(StagesTest.Q);
        target.nextMicros = 300;
        other.submit(new Req(BlockOp.READ, 0, 4096), target);
        Map<String, Object> read = op(stats.snapshot(), "read");
        assertEquals(2L, read.get("requests"));
        near(100, read.get("p50_us"), "p50");
        near(300, read.get("max_us"), "max");
    }

    @Test
    void thePrometheusBucketsStillCountEveryRequest() {
        for (int i = 0; i < 5; i++) request(BlockOp.WRITE, 1 << i);
        StatsStage.QueueCounts c = stats.queueCounts().getFirst();
        assertEquals(5, c.count()[BlockOp.WRITE]);
        assertEquals(5, Arrays.stream(c.hist()[BlockOp.WRITE]).sum());
        assertEquals((1 + 2 + 4 + 8 + 16) * 1000L, c.nanos()[BlockOp.WRITE]);
    }
}
