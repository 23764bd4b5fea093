package dev.ublkgateway.core.runtime;

import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.nbd.Tools;
import dev.ublkgateway.core.metrics.MetricsAddress;
import dev.ublkgateway.core.plugins.PluginHost;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** A gateway serving a device over NBD, written and read by nbdcopy, then scraped over HTTP. */
class MetricsEndpointTest {
    static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    @Test
    void scrapeShowsTheRequestsAClientMade() throws Exception {
        Tools.require("nbdcopy");
        Files.createDirectories(dir.resolve("plugins"));
        ChainFactory chains = new ChainFactory(PluginHost.load(dir.resolve("plugins")));
        Path sock = dir.resolve("nbd.sock");
        GatewayConfig config = ConfigLoader.parse("""
                metrics-listen: 127.0.0.1:0
                devices:
                  - name: m0
                    size: 4MiB
                    frontend: nbd
                    nbd-listen: unix:%s
                    stages: [{type: stats}]
                    target: {type: memory}
                """.formatted(sock), "m.yaml", chains.componentTypes());
        assertEquals("127.0.0.1:0", config.metricsListen());
        Gateway gateway = new Gateway(new StateStore(dir.resolve("run")), chains);
        try {
            int port = gateway.serveMetrics(MetricsAddress.parse(config.metricsListen()));
            gateway.up(config);
            assertEquals(0, sum(scrape(port), "ublkgw_requests_total", "device=\"m0\""), "no client yet");

            byte[] data = new byte[SIZE];
            new Random(7).nextBytes(data);
            Path in = dir.resolve("in.img"), out = dir.resolve("out.img");
            Files.write(in, data);
            String uri = "nbd+unix:///m0?socket=" + sock;
            Tools.ok("nbdcopy", in.toString(), uri);
            Tools.ok("nbdcopy", uri, out.toString());
            assertArrayEquals(data, Files.readAllBytes(out));

            String text = scrape(port);
            assertEquals(SIZE, sum(text, "ublkgw_bytes_total", "op=\"write\""), text);
            assertEquals(SIZE, sum(text, "ublkgw_bytes_total", "op=\"read\""), text);
            double writes = sum(text, "ublkgw_requests_total", "op=\"write\"");
            assertTrue(writes >= 1, text);
            assertEquals(writes, sum(text, "ublkgw_request_duration_seconds_count", "op=\"write\""), text);
            assertEquals(writes, sum(text, "ublkgw_request_duration_seconds_bucket", "op=\"write\"", "le=\"+Inf\""), text);
            assertEquals(0, sum(text, "ublkgw_in_flight_requests", "device=\"m0\""), text);
            assertFalse(text.contains("ublkgw_errors_total{"), "no request failed: " + text);
        } finally {
            gateway.stopAll();
        }
    }

    /** What a scrape shows of a chunked volume, written and read back over NBD with known data. */
    @Test
    void scrapeShowsAChunkedVolumesCacheStoreAndLease() throws Exception {
        Tools.require("nbdcopy");
        Files.createDirectories(dir.resolve("plugins"));
        ChainFactory chains = new ChainFactory(PluginHost.load(dir.resolve("plugins")));
        Path sock = dir.resolve("c.sock"), store = dir.resolve("store");
        // no background write-back (a long delay): FLUSH alone stores the chunks, each once
        GatewayConfig config = ConfigLoader.parse("""
                devices:
                  - name: c0
                    size: 4MiB
                    frontend: nbd
                    nbd-listen: unix:%s
                    target:
                      type: chunked
                      chunk-size: 64KiB
                      cache: 16MiB
                      writeback-delay-ms: 600000
                      store: {type: directory, path: %s}
                """.formatted(sock, store), "c.yaml", chains.componentTypes());
        Gateway gateway = new Gateway(new StateStore(dir.resolve("run")), chains);
        try {
            int port = gateway.serveMetrics(MetricsAddress.parse("127.0.0.1:0"));
            gateway.up(config);
            String fresh = scrape(port);
            assertEquals(16 << 20, sum(fresh, "ublkgw_chunked_cache_capacity_bytes", "device=\"c0\""), fresh);
            assertEquals(1, sum(fresh, "ublkgw_chunked_lease_held", "device=\"c0\""), fresh);
            assertEquals(0, sum(fresh, "ublkgw_chunked_cache_dirty_bytes", "device=\"c0\""), fresh);

            byte[] data = new byte[SIZE];
            new Random(11).nextBytes(data);
            Path in = dir.resolve("c.img"), out = dir.resolve("c.out");
            Files.write(in, data);
            String uri = "nbd+unix:///c0?socket=" + sock;
            Tools.ok("nbdcopy", "--flush", in.toString(), uri);
            String written = scrape(port);
            int chunks = SIZE / (64 << 10);
            assertEquals(0, sum(written, "ublkgw_chunked_cache_dirty_bytes", "device=\"c0\""), "flushed: " + written);
            assertEquals(SIZE, sum(written, "ublkgw_chunked_cache_clean_bytes", "device=\"c0\""), written);
            assertEquals(chunks, sum(written, "ublkgw_chunked_writeback_chunks_total", "device=\"c0\""), written);
            assertEquals(0, sum(written, "ublkgw_chunked_flushes_in_progress", "device=\"c0\""), written);
            String put = "op=\"put\"";
            // each chunk object is the chunk and its 8-byte generation; the rest are the chunk map and the lease
            long chunkObjects = (long) chunks * ((64 << 10) + 8);
            double puts = sum(written, "ublkgw_store_requests_total", "store=\"directory\"", put);
            double putBytes = sum(written, "ublkgw_store_bytes_total", "store=\"directory\"", put);
            assertTrue(puts >= chunks + 2 && puts < chunks + 20, "chunks, the map and the lease: " + written);
            assertTrue(putBytes >= chunkObjects && putBytes < chunkObjects + 16 * 1024, written);
            assertEquals(0, sum(written, "ublkgw_store_failures_total", "device=\"c0\""), written);
            assertEquals(0, sum(written, "ublkgw_store_retries_total", "device=\"c0\""), written);

            double gets = sum(written, "ublkgw_store_requests_total", "store=\"directory\"", "op=\"get\"");
            double beats = sum(written, "ublkgw_chunked_lease_renewals_total", "device=\"c0\"");
            Tools.ok("nbdcopy", uri, out.toString());
            assertArrayEquals(data, Files.readAllBytes(out));
            String read = scrape(port);
            // every chunk is cached: reading it back asks the store nothing (but the lease's heartbeat reads it)
            double beatsSince = sum(read, "ublkgw_chunked_lease_renewals_total", "device=\"c0\"") - beats;
            assertEquals(gets + beatsSince, sum(read, "ublkgw_store_requests_total", "store=\"directory\"", "op=\"get\""), read);
            assertFalse(read.contains("ublkgw_requests_total{device=\"c0\""), "c0 has no stats stage: " + read);
        } finally {
            gateway.stopAll();
        }
    }

    @Test
    void aTakenPortIsOneLineNamingTheAddress() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Gateway gateway = new Gateway(new StateStore(dir.resolve("run")), null);
            IOException e = assertThrows(IOException.class,
                    () -> gateway.serveMetrics(new MetricsAddress("127.0.0.1", taken.getLocalPort())));
            assertTrue(e.getMessage().startsWith("cannot serve metrics on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().contains("pick a free port") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    static String scrape(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    /** The sum of a metric's samples whose labels contain each of {@code labels}. */
    static double sum(String text, String metric, String... labels) {
        double total = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith(metric + "{") && java.util.Arrays.stream(labels).allMatch(line::contains)) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }
}
