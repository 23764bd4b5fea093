package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.plugins.s3.testing.S3ProxyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The S3 server goes away in the middle of writes: requests are retried, and fail only after the time limit. */
class S3OutageTest {
    @TempDir
    Path tmp;

    @Test
    void writesInFlightWhenTheServerDiesAreRetriedUntilItIsBack() throws Exception {
        try (S3ProxyServer server = S3ProxyServer.start(tmp.resolve("s3"))) {
            server.createBucket("vol");
            // generous limits: the server needs some seconds to start again
            S3Config c = S3Config.of(server.endpoint(), "vol", S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                    .withLimits(100, 180, 10);
            try (S3ObjectStore s = S3ObjectStore.open(c); ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                AtomicInteger done = new AtomicInteger();
                List<Future<?>> writes = new ArrayList<>();
                int n = 200;
                for (int i = 0; i < n; i++) {
                    int k = i;
                    writes.add(ex.submit(() -> {
                        byte[] d = S3ObjectStoreTest.random(256 * 1024, k);
                        s.put("chunk-" + k, d, 0, d.length);
                        done.incrementAndGet();
                        return null;
                    }));
                }
                while (done.get() < 5) Thread.sleep(10);
                server.kill(); // mid-write
                int before = done.get();
                Thread.sleep(2000);
                assertTrue(done.get() < n, "every write finished before the server died; nothing was tested");
                server.start();
                for (Future<?> f : writes) f.get(); // none failed
                assertTrue(s.stats().getFailures() == 0, s.stats().toString());
                for (int k = 0; k < n; k++) {
                    assertArrayEquals(S3ObjectStoreTest.random(256 * 1024, k), s.get("chunk-" + k).orElseThrow(), "chunk-" + k);
                }
                System.out.println("outage: " + before + " of " + n + " writes done when the server was killed; all stored after restart");
            }
        }
    }

    @Test
    void aLongOutageIsAnIOExceptionAfterTheTimeout() throws Exception {
        try (S3ProxyServer server = S3ProxyServer.start(tmp.resolve("s3"))) {
            server.createBucket("vol");
            S3Config c = S3Config.of(server.endpoint(), "vol", S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                    .withLimits(100, 4, 2);
            try (S3ObjectStore s = S3ObjectStore.open(c)) {
                s.put("k", new byte[] {1}, 0, 1);
                server.stop();
                for (String op : List.of("PUT", "GET", "DELETE")) {
                    long t0 = System.nanoTime();
                    IOException e = assertThrows(IOException.class, () -> {
                        switch (op) {
                            case "PUT" -> s.put("k", new byte[] {2}, 0, 1);
                            case "GET" -> s.get("k");
                            default -> s.delete("k");
                        }
                    });
                    double secs = (System.nanoTime() - t0) / 1e9;
                    assertTrue(secs >= 3.5 && secs < 10, op + " failed after " + secs + " s, expected about 4");
                    assertEquals("s3: " + op + " s3://vol/k failed: no success within 4 s (timeout-seconds)",
                            e.getMessage().replaceAll(" \\(\\d+ attempts\\)$", ""));
                    assertFalse(e.getMessage().contains("\n"));
                }
                server.start();
                assertArrayEquals(new byte[] {1}, s.get("k").orElseThrow()); // the failed PUT changed nothing
            }
        }
    }
}
