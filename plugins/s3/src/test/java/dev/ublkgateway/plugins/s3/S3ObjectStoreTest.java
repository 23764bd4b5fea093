package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.plugins.s3.testing.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The s3 store against a real S3 server (S3Proxy in its own process). */
class S3ObjectStoreTest {
    @TempDir
    static Path tmp;
    static S3ProxyServer server;

    @BeforeAll
    static void startServer() throws IOException {
        server = S3ProxyServer.start(tmp.resolve("s3"));
        server.createBucket("vol");
    }

    @AfterAll
    static void stopServer() {
        if (server != null) server.close();
    }

    static S3Config config(String bucket) {
        return S3Config.of(server.endpoint(), bucket, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void roundTripOverwriteAndSlices() throws IOException {
        try (ObjectStore s = new S3StoreProvider().open(config("vol").withPrefix("rt"))) {
            byte[] big = random(4 << 20, 1);
            s.put("chunk-0", big, 0, big.length);
            assertArrayEquals(big, s.get("chunk-0").orElseThrow());
            byte[] other = random(1000, 2);
            s.put("chunk-0", other, 100, 500);
            assertArrayEquals(Arrays.copyOfRange(other, 100, 600), s.get("chunk-0").orElseThrow());
            s.put("empty", new byte[0], 0, 0);
            assertEquals(0, s.get("empty").orElseThrow().length);
            // stored under the prefix, as given
            assertTrue(Files.isRegularFile(server.objectFile("vol", "rt/chunk-0")));
            assertEquals(500, Files.size(server.objectFile("vol", "rt/chunk-0")));
        }
    }

    @Test
    void missingObjectIsEmptyAndDeleteRemoves() throws IOException {
        try (ObjectStore s = new S3StoreProvider().open(config("vol").withPrefix("del/"))) {
            assertEquals(Optional.empty(), s.get("never-written"));
            s.put("k", new byte[] {1, 2, 3}, 0, 3);
            assertTrue(s.get("k").isPresent());
            s.delete("k");
            assertEquals(Optional.empty(), s.get("k"));
            s.delete("k"); // deleting a missing object is no error
            s.delete("never-written");
            assertFalse(Files.exists(server.objectFile("vol", "del/k")));
        }
    }

    @Test
    void listingIsRelativeToThePrefixOneLevelOrAll() throws IOException {
        try (ObjectStore s = S3ObjectStore.open(config("vol").withPrefix("ls"))) {
            for (String k : List.of("a", "b/c", "b/d/e", "f/g")) s.put(k, new byte[] {1}, 0, 1);
            assertEquals(List.of("a", "b/", "f/"), s.list("", false).stream().sorted().toList());
            assertEquals(List.of("b/c", "b/d/"), s.list("b/", false).stream().sorted().toList());
            assertEquals(List.of("b/c", "b/d/e"), s.list("b/", true).stream().sorted().toList());
            assertEquals(List.of(), s.list("none/", true));
        }
    }

    @Test
    void prefixesSeparateVolumes() throws IOException {
        try (ObjectStore a = S3ObjectStore.open(config("vol").withPrefix("a")); ObjectStore b = S3ObjectStore.open(config("vol").withPrefix("b"))) {
            a.put("x", new byte[] {1}, 0, 1);
            assertEquals(Optional.empty(), b.get("x"));
            b.put("x", new byte[] {2}, 0, 1);
            assertArrayEquals(new byte[] {1}, a.get("x").orElseThrow());
        }
    }

    @Test
    void manyThreadsThroughFewConnections() throws Exception {
        S3Config c = new S3Config("vol", "par", server.endpoint(), null, null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY,
                null, null, 4, null, null, null, null);
        try (S3ObjectStore s = S3ObjectStore.open(c); ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                int n = i;
                fs.add(ex.submit(() -> {
                    byte[] d = random(64 * 1024, n);
                    s.put("c" + n, d, 0, d.length);
                    assertArrayEquals(d, s.get("c" + n).orElseThrow());
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
            assertEquals(64, s.stats().getPuts());
            assertEquals(0, s.stats().getFailures());
        }
    }

    @Test
    void missingBucketIsOneLineAtOpen() {
        IOException e = assertThrows(IOException.class, () -> S3ObjectStore.open(config("no-such-bucket")));
        assertEquals("s3: bucket no-such-bucket at " + server.endpoint() + " does not exist; create it or fix bucket", e.getMessage());
    }

    @Test
    void badCredentialsAreOneLineAtOpen() {
        S3Config bad = S3Config.of(server.endpoint(), "vol", S3ProxyServer.ACCESS_KEY, "wrong-secret");
        IOException e = assertThrows(IOException.class, () -> S3ObjectStore.open(bad));
        assertTrue(e.getMessage().startsWith("s3: bucket vol at " + server.endpoint() + ": access denied"), e.getMessage());
        assertTrue(e.getMessage().contains("check the credentials"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertFalse(e.getMessage().contains("wrong-secret"), e.getMessage());

        S3Config unknownKey = S3Config.of(server.endpoint(), "vol", "nobody", "wrong-secret");
        e = assertThrows(IOException.class, () -> S3ObjectStore.open(unknownKey));
        assertTrue(e.getMessage().contains("access denied"), e.getMessage());
    }

    @Test
    void unreachableServerIsOneLineAtOpen() throws IOException {
        int port;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        S3Config c = S3Config.of("http://127.0.0.1:" + port, "vol", "a", "b").withLimits(3, 5, 2);
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> S3ObjectStore.open(c));
        assertTrue(System.nanoTime() - t0 < 15_000_000_000L, "took too long");
        assertTrue(e.getMessage().startsWith("s3: cannot reach http://127.0.0.1:" + port), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void configIsValidatedAndHidesSecrets() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new S3Config("b", null, null, null, null, "AKID", null, null, null, null, null, null, null, null));
        assertTrue(e.getMessage().startsWith("secret-access-key is missing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new S3Config("b", null, "ftp://x", null, null, null, null, null, null, null, null, null, null, null));
        assertTrue(e.getMessage().startsWith("endpoint "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new S3Config("b", null, null, null, null, null, null, null, null, 0, null, null, null, null));
        assertTrue(e.getMessage().startsWith("max-concurrency 0"), e.getMessage());
        S3Config c = S3Config.of("http://h:1", "b", "AKIDSECRET1", "SECRET2");
        assertFalse(c.toString().contains("AKIDSECRET1") || c.toString().contains("SECRET2"), c.toString());
        assertTrue(c.pathStyle());
        assertEquals("p/", c.withPrefix("p").prefix());
        assertFalse(new S3Config("b", null, null, null, null, null, null, null, null, null, null, null, null, null).pathStyle());
    }
}
