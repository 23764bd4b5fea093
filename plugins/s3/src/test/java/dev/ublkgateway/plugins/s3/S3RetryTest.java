package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.plugins.s3.testing.FaultyProxy;
import dev.ublkgateway.plugins.s3.testing.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** A throttling or failing S3 (503 SlowDown, 500, 503 ServiceUnavailable): requests are retried with backoff. */
class S3RetryTest {
    @TempDir
    static Path tmp;
    static S3ProxyServer server;
    static FaultyProxy proxy;

    @BeforeAll
    static void start() throws IOException {
        server = S3ProxyServer.start(tmp.resolve("s3"));
        server.createBucket("vol");
        proxy = new FaultyProxy(server.port());
    }

    @AfterAll
    static void stop() throws IOException {
        if (proxy != null) proxy.close();
        if (server != null) server.close();
    }

    static S3ObjectStore open(int maxAttempts) throws IOException {
        return S3ObjectStore.open(S3Config.of(proxy.endpoint(), "vol", S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                .withLimits(maxAttempts, 60, 10));
    }

    @Test
    void slowDownIsRetriedWithBackoffUntilThePutIsStored() throws Exception {
        try (S3ObjectStore s = open(10)) {
            byte[] d = S3ObjectStoreTest.random(64 * 1024, 1);
            proxy.fail("PUT", 3, 503, "SlowDown");
            int before = proxy.injected();
            long failures = s.stats().getFailures(); // the stats are per bucket and prefix, shared by the tests
            long retries = s.stats().retries(S3Stats.PUT);
            long t0 = System.nanoTime();
            s.put("throttled", d, 0, d.length);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(3, proxy.injected() - before, "three PUTs were throttled and retried");
            assertTrue(ms >= 500, "throttling backs off (at least 500 ms before the first retry), took " + ms + " ms");
            assertArrayEquals(d, s.get("throttled").orElseThrow());
            assertEquals(failures, s.stats().getFailures(), "no request failed");
            assertEquals(retries + 3, s.stats().retries(S3Stats.PUT), "the client's retries are counted");
        }
    }

    @Test
    void serverErrorsAreRetriedForReadsAndWrites() throws Exception {
        try (S3ObjectStore s = open(10)) {
            byte[] d = S3ObjectStoreTest.random(4096, 2);
            proxy.fail("PUT", 2, 500, "InternalError");
            s.put("flaky", d, 0, d.length);
            proxy.fail("GET", 2, 503, "ServiceUnavailable");
            int before = proxy.injected();
            long retries = s.stats().retries(S3Stats.GET), putRetries = s.stats().retries(S3Stats.PUT);
            assertArrayEquals(d, s.get("flaky").orElseThrow());
            assertEquals(2, proxy.injected() - before);
            assertEquals(retries + 2, s.stats().retries(S3Stats.GET));
            java.util.Map<String, Long> shown = new java.util.HashMap<>();
            s.reportMetrics(new dev.ublkgateway.api.MetricsSink() {
                public void counter(String name, String help, long value, String... labels) {
                    shown.put(name + "/" + labels[1], value);
                }

                public void gauge(String name, String help, double value, String... labels) {}
            });
            assertEquals(retries + 2, shown.get("store_retries_total/get"), "what the metrics endpoint shows: " + shown);
            assertEquals(putRetries, shown.get("store_retries_total/put"), shown.toString());
        }
    }

    @Test
    void whenEveryAttemptFailsThePutFailsInOneLine() throws Exception {
        try (S3ObjectStore s = open(3)) {
            byte[] d = new byte[512];
            proxy.fail("PUT", 3, 503, "SlowDown");
            long failures = s.stats().getFailures();
            IOException e = assertThrows(IOException.class, () -> s.put("never", d, 0, d.length));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().contains("SlowDown") || e.getMessage().contains("503"), e.getMessage());
            assertEquals(failures + 1, s.stats().getFailures());
            proxy.fail("PUT", 0, 503, "SlowDown");
        }
    }
}
