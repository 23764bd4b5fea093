package dev.ublkgateway.core.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.stages.StatsStage;
import dev.ublkgateway.core.stats.StatsReport;
import dev.ublkgateway.core.stats.StatsSample;
import dev.ublkgateway.core.sys.Caller;
import dev.ublkgateway.core.testing.ConsoleCapture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** `stats --json` and `list --json` print the documented fields, which parse back as JSON. */
class StatsJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> DEVICE_FIELDS = List.of("device", "frontend", "id", "block_device", "target", "size_bytes",
            "state", "pid", "queues");
    static final List<String> OPS = List.of("read", "write", "flush", "discard", "write-zeroes");
    static final List<String> PERCENTILES = List.of("p50", "p90", "p99", "p99_9", "max");

    @TempDir
    Path dir;
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();
    private StateStore states;
    private final StatsStage stats = new StatsStage();
    private StageQueue queue;

    @BeforeEach
    void setUp() throws Exception {
        states = new StateStore(dir);
        states.save(new DeviceState("d0", -1, ProcessHandle.current().pid(), "d.yaml", false,
                "nbd+unix:///d0?socket=/run/d.sock", "memory", 4 << 20, 2));
        queue = stats.openQueue(new QueueContext() {
            public int queueId() { return 0; }
            public int depth() { return 4; }
            public int maxIoBytes() { return 1 << 20; }
        });
    }

    private void writes(int n) {
        for (int i = 0; i < n; i++) queue.submit(new Write(), r -> r.length());
    }

    private int run(String... args) throws Exception {
        try (var u = Caller.simulate(0, Map.of("UBLKGW_RUN_DIR", dir.toString()))) {
            return Main.run(args);
        }
    }

    private static List<String> fields(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void statsJsonHasTheDocumentedFields() throws Exception {
        writes(3);
        states.saveStats("d0", stats.snapshot());
        assertEquals(0, run("stats", "d0", "--json"), console.err());
        JsonNode doc = JSON.readTree(console.out());
        List<String> expected = new ArrayList<>(DEVICE_FIELDS);
        expected.addAll(List.of("time", "ops", "tags"));
        assertEquals(expected, fields(doc));
        assertEquals("d0", doc.get("device").asText());
        assertEquals("nbd", doc.get("frontend").asText());
        assertTrue(doc.get("id").isNull());
        assertEquals(4 << 20, doc.get("size_bytes").asLong());
        assertEquals("LIVE", doc.get("state").asText());
        assertEquals(ProcessHandle.current().pid(), doc.get("pid").asLong());
        assertEquals(2, doc.get("queues").asInt());
        assertEquals(OPS, fields(doc.get("ops")));
        JsonNode write = doc.get("ops").get("write");
        assertEquals(List.of("requests", "bytes", "errors", "latency_us"), fields(write));
        assertEquals(3, write.get("requests").asLong());
        assertEquals(3 * 4096, write.get("bytes").asLong());
        assertEquals(0, write.get("errors").asLong());
        assertEquals(PERCENTILES, fields(write.get("latency_us")));
        double last = 0;
        for (String p : PERCENTILES) {
            double v = write.get("latency_us").get(p).asDouble();
            assertTrue(v > 0 && v >= last, p + " " + v + " after " + last);
            last = v;
        }
        assertEquals(0.0, doc.get("ops").get("read").get("latency_us").get("p99").asDouble());
        assertTrue(doc.get("tags").isObject() && doc.get("tags").isEmpty());
    }

    @Test
    void theTableKeepsItsFirstColumnsAndAddsThePercentiles() throws Exception {
        writes(2);
        states.saveStats("d0", stats.snapshot());
        assertEquals(0, run("stats", "d0"), console.err());
        String[] lines = console.out().split("\n");
        assertArrayEquals(new String[] {"OP", "REQUESTS", "BYTES", "ERRORS", "P50_US", "P90_US", "P99_US", "P99.9_US", "MAX_US"},
                lines[0].trim().split(" +"));
        String[] write = lines[2].trim().split(" +");
        assertEquals(List.of("write", "2", "8192", "0"), List.of(write).subList(0, 4), lines[2]);
    }

    @Test
    void listJsonHasTheDocumentedFields() throws Exception {
        assertEquals(0, run("list", "--json"), console.err());
        JsonNode doc = JSON.readTree(console.out());
        assertEquals(List.of("devices"), fields(doc));
        JsonNode d0 = null;
        for (JsonNode d : doc.get("devices")) {
            assertEquals(DEVICE_FIELDS, fields(d), d.toString());
            if ("d0".equals(d.get("device").asText())) d0 = d;
        }
        assertNotNull(d0, doc.toString());
        assertEquals("nbd+unix:///d0?socket=/run/d.sock", d0.get("block_device").asText());
        assertEquals("memory", d0.get("target").asText());
        assertEquals(4 << 20, d0.get("size_bytes").asLong());
        assertEquals("LIVE", d0.get("state").asText());
    }

    @Test
    void anIntervalHasItsOwnCountsAndRates() throws Exception {
        writes(2);
        Map<String, Object> first = stats.snapshot();
        first.put("time_ms", 10_000L);
        writes(4);
        Map<String, Object> second = stats.snapshot();
        second.put("time_ms", 12_000L);
        DeviceState s = states.load("d0").orElseThrow();
        String line = JSON.writeValueAsString(StatsReport.interval(s, StatsSample.from(first), StatsSample.from(second)));
        JsonNode doc = JSON.readTree(line);
        assertEquals(2.0, doc.get("interval_s").asDouble());
        JsonNode write = doc.get("ops").get("write");
        assertEquals(List.of("requests", "bytes", "errors", "iops", "mb_per_s", "latency_us"), fields(write));
        assertEquals(4, write.get("requests").asLong(), "the interval's, not the 6 since start");
        assertEquals(2.0, write.get("iops").asDouble());
        assertEquals(0.008, write.get("mb_per_s").asDouble(), "4 x 4096 bytes in 2 s");
        assertEquals(1, line.lines().count(), "one line per interval");
    }

    @Test
    void aTooShortIntervalIsOneLineOfBadUsage() throws Exception {
        assertEquals(2, run("stats", "d0", "--watch", "--interval", "0"));
        String e = console.err().strip();
        assertFalse(e.contains("\n"), e);
        assertTrue(e.contains("--interval must be 1 or more seconds"), e);
    }

    private static final class Write implements BlockRequest {
        public int op() { return BlockOp.WRITE; }
        public int flags() { return 0; }
        public long offset() { return 0; }
        public int length() { return 4096; }
        public MemorySegment buffer() { return MemorySegment.NULL; }
        public int queue() { return 0; }
        public int tag() { return 0; }
        public void complete(int result) { }
    }

}
