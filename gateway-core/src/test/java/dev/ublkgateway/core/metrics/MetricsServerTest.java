package dev.ublkgateway.core.metrics;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.TargetQueue;
import dev.ublkgateway.core.chain.TestFrontend;
import dev.ublkgateway.core.stages.StatsStage;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
