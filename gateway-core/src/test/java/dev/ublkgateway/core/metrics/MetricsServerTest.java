package dev.ublkgateway.core.metrics;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.MetricsSource;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.TestFrontend;
import dev.ublkgateway.core.stages.StatsStage;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Errors by errno, requests in flight and queue ids as a scrape shows them; the address syntax. */
class MetricsServerTest {
    static QueueContext queue(int id) {
        return new QueueContext() {
            public int queueId() { return id; }
            public int depth() { return 64; }
            public int maxIoBytes() { return 1 << 20; }
        };
    }

    @Test
    void errorsByErrnoAndRequestsInFlight() throws Exception {
        StatsStage stats = new StatsStage();
        // writes fail with EIO, discards with ENOSPC, reads stay pending
        TargetQueue target = r -> r.op() == BlockOp.WRITE ? -Errno.EIO : r.op() == BlockOp.DISCARD ? -Errno.ENOSPC
                : TargetQueue.PENDING;
        try (TestFrontend q1 = new TestFrontend(target, stats.openQueue(queue(1)));
             TestFrontend q1again = new TestFrontend(target, stats.openQueue(queue(1)));
             MetricsServer server = MetricsServer.start(MetricsAddress.parse("127.0.0.1:0"), () -> Map.of("d7", stats))) {
            assertEquals(-Errno.EIO, q1.submit(BlockOp.WRITE, 0, 4096, 0).result());
            assertEquals(-Errno.EIO, q1again.submit(BlockOp.WRITE, 0, 4096, 0).result());
            assertEquals(-Errno.ENOSPC, q1.submit(BlockOp.DISCARD, 0, 4096, 1).result());
            q1.submit(BlockOp.READ, 0, 4096, 2);
            q1.onQueue(() -> { }); // the read has reached the target
            String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(text.contains("ublkgw_errors_total{device=\"d7\",errno=\"EIO\",op=\"write\",queue=\"1\"} 2.0"), text);
            assertTrue(text.contains("ublkgw_errors_total{device=\"d7\",errno=\"ENOSPC\",op=\"discard\",queue=\"1\"} 1.0"), text);
            assertTrue(text.contains("ublkgw_in_flight_requests{device=\"d7\",queue=\"1\"} 1.0"), text);
            assertTrue(text.contains("ublkgw_bytes_total{device=\"d7\",op=\"write\",queue=\"1\"} 0.0"), "failed writes move no bytes: " + text);
            assertFalse(text.contains("queue=\"0\""), "two connections on queue 1 are one series: " + text);
        }
    }

    @Test
    void sourcesShowUnderTheDeviceWithThePrefixAndRepeatsAddUp() throws Exception {
        MetricsSource good = sink -> {
            sink.counter("widget_calls_total", "Widget calls", 3, "op", "get");
            sink.counter("widget_calls_total", "Widget calls", 4, "op", "get"); // the same series again: added
            sink.counter("widget_calls_total", "Widget calls", 5, "op", "put");
            sink.gauge("widget_queued_bytes", "Bytes queued", 1.5);
            sink.withLabels("store", "s3").gauge("widget_up", "1 while up", 1);
        };
        MetricsSource bad = sink -> {
            sink.counter("WidgetCalls_total", "not snake case", 1);
            sink.counter("widget_no_suffix", "a counter without _total", 1);
            sink.counter("requests_total", "the gateway's own family", 1);
            sink.gauge("widget_odd", "a label without a value", 1, "op");
            sink.gauge("widget_calls_total", "a counter's name as a gauge", 1);
            sink.gauge("widget_calls", "a counter's family as a gauge", 1);
        };
        MetricsSource broken = sink -> {
            throw new IllegalStateException("boom");
        };
        try (MetricsServer server = MetricsServer.start(MetricsAddress.parse("127.0.0.1:0"), Map::of,
                () -> Map.of("d1", List.of(good, bad, broken), "d2", List.of(good)))) {
            String text = scrape(server.port());
            assertTrue(text.contains("ublkgw_widget_calls_total{device=\"d1\",op=\"get\"} 7.0"), text);
            assertTrue(text.contains("ublkgw_widget_calls_total{device=\"d2\",op=\"put\"} 5.0"), text);
            assertTrue(text.contains("# TYPE ublkgw_widget_calls_total counter"), text);
            assertTrue(text.contains("ublkgw_widget_queued_bytes{device=\"d1\"} 1.5"), text);
            assertTrue(text.contains("# TYPE ublkgw_widget_queued_bytes gauge"), text);
            assertTrue(text.contains("ublkgw_widget_up{device=\"d2\",store=\"s3\"} 1.0"), text);
            for (String left : new String[] {"WidgetCalls", "widget_no_suffix", "ublkgw_requests", "widget_odd"}) {
                assertFalse(text.contains(left), left + " breaks the rules and is left out: " + text);
            }
            assertEquals(4, text.lines().filter(l -> l.startsWith("ublkgw_widget_calls")).count(),
                    "a counter's name reported as a gauge adds nothing: " + text);
        }
    }

    static String scrape(int port) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void addressesAreHostAndPort() {
        assertEquals(new MetricsAddress("127.0.0.1", 9810), MetricsAddress.parse("127.0.0.1:9810"));
        assertEquals(new MetricsAddress("0.0.0.0", 9810), MetricsAddress.parse(":9810"));
        assertEquals("[::1]:9810", MetricsAddress.parse("[::1]:9810").toString());
        for (String bad : new String[] {"localhost", "unix:/run/m.sock", "host:99999", "::1:80"}) {
            String m = assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse(bad)).getMessage();
            assertTrue(m.contains("HOST:PORT, e.g. 127.0.0.1:9810") && !m.contains("\n"), m);
        }
    }
}
