package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.StageQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.ublkgateway.core.stages.script.ScriptTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** The hooks' calls by outcome, as the metrics endpoint shows them; a closed queue's calls still count. */
class ScriptMetricsTest {
    @TempDir
    Path dir;

    /** "hook/outcome" to calls. */
    static Map<String, Long> scrape(ScriptStage s) {
        Map<String, Long> out = new TreeMap<>();
        s.reportMetrics(new MetricsSink() {
            public void counter(String name, String help, long value, String... labels) {
                assertEquals("script_hook_calls_total", name);
                assertEquals(List.of("hook", "outcome"), List.of(labels[0], labels[2]));
                assertNull(out.put(labels[1] + "/" + labels[3], value), "one series each");
            }

            public void gauge(String name, String help, double value, String... labels) {
                fail("no gauges: " + name);
            }
        });
        return out;
    }

    @Test
    void callsAreCountedByHookAndOutcome() throws IOException {
        Path js = write(dir, "m.js", """
                export function onAttach() {}
                export function onRequest(req) {
                  if (req.op === 'write' && req.offset < 4096) return gateway.deny('EPERM');
                  if (req.op === 'read' && req.offset === 8192) throw new Error('bad request');
                }
                export function onFlush() {}
                """);
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of())) {
            CountingTarget t = new CountingTarget();
            StageQueue q = open(s);
            assertEquals(-Errno.EPERM, q.submit(request(BlockOp.WRITE, 0, 4096), t));
            assertEquals(-Errno.EPERM, q.submit(request(BlockOp.WRITE, 512, 512), t));
            assertEquals(4096, q.submit(request(BlockOp.WRITE, 4096, 4096), t));
            assertEquals(-Errno.EIO, q.submit(request(BlockOp.READ, 8192, 4096), t), "fail-closed");
            assertEquals(0, q.submit(request(BlockOp.FLUSH, 0, 0), t));
            q.close();
            // a new connection's queue: the closed one's calls still count
            StageQueue again = open(s);
            assertEquals(4096, again.submit(request(BlockOp.READ, 0, 4096), t));

            Map<String, Long> m = scrape(s);
            assertEquals(2, m.get("onRequest/allowed"), m.toString());
            assertEquals(2, m.get("onRequest/denied"), m.toString());
            assertEquals(1, m.get("onRequest/error"), m.toString());
            assertEquals(1, m.get("onFlush/allowed"), m.toString());
            assertEquals(0, m.get("onFlush/denied"), m.toString());
            assertEquals(1, m.get("onAttach/ok"), m.toString());
            assertEquals(0, m.get("onAttach/error"), m.toString());
            assertEquals(0, m.get("onTick/ok"), "no onTick in the script: " + m);
            again.close();
        }
    }
}
