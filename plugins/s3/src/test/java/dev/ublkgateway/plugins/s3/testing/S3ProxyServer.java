package dev.ublkgateway.plugins.s3.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real S3 server for tests: S3Proxy with filesystem storage, run by {@code scripts/s3proxy.sh} as a
 * process of its own on 127.0.0.1. Uses only the JDK, so any module's tests can use it (the s3 module's
 * test-jar). Buckets are directories under {@link #dir()}. Clients sign with {@link #ACCESS_KEY} /
 * {@link #SECRET_KEY}. The server can be stopped (even killed) and started again on the same port and
 * data, to test outages.
 *
 * <pre>
 * try (S3ProxyServer s3 = S3ProxyServer.start(tempDir)) {
 *     s3.createBucket("vol");
 *     ... s3.endpoint() ...
 * }
 * </pre>
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "test-access";
    public static final String SECRET_KEY = "test-secret";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final Path dir;
    private final int port;
    private Process process;

    private S3ProxyServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts a server storing its buckets under {@code dir} (created if missing) on a free port. */
    public static S3ProxyServer start(Path dir) throws IOException {
        S3ProxyServer s = new S3ProxyServer(dir.toAbsolutePath(), freePort());
        s.start();
        return s;
    }

    /** The repository root: system property ublkgw.root, else the nearest parent with scripts/s3proxy.sh. */
    public static Path root() {
        String p = System.getProperty("ublkgw.root");
        if (p != null) return Path.of(p);
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isExecutable(d.resolve("scripts/s3proxy.sh"))) return d;
        }
        throw new IllegalStateException("scripts/s3proxy.sh not found above " + Path.of("").toAbsolutePath()
                + "; set -Dublkgw.root to the ublk-gateway checkout");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts the server (again, after {@link #stop()} or {@link #kill()}) on the same port and data. */
    public synchronized void start() throws IOException {
        if (isRunning()) return;
        Files.createDirectories(dir);
        Path script = root().resolve("scripts/s3proxy.sh");
        ProcessBuilder pb = new ProcessBuilder(List.of(script.toString(), "run", dir.toString(), Integer.toString(port)))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolveSibling(dir.getFileName() + ".out").toFile()));
        pb.environment().put("S3PROXY_IDENTITY", ACCESS_KEY);
        pb.environment().put("S3PROXY_CREDENTIAL", SECRET_KEY);
        pb.environment().put("S3PROXY_STORAGE", "filesystem-nio2");
        process = pb.start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("S3Proxy exited with status " + process.exitValue() + "; see " + dir + ".log and " + dir + ".out");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                sleep(100);
            }
        }
        kill();
        throw new IOException("S3Proxy did not answer on port " + port + " within " + START_TIMEOUT.toSeconds() + " s");
    }

    /** Stops the server (SIGTERM) and waits for it to exit. */
    public synchronized void stop() {
        end(false);
    }

    /** Kills the server (SIGKILL), as a crash would. */
    public synchronized void kill() {
        end(true);
    }

    private void end(boolean force) {
        if (process == null) return;
        if (force) process.destroyForcibly(); else process.destroy();
        try {
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Creates a bucket (a directory of the filesystem storage). */
    public void createBucket(String name) {
        try {
            Files.createDirectories(dir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The file holding an object, for tests that tamper with stored data. */
    public Path objectFile(String bucket, String key) {
        return dir.resolve(bucket).resolve(key);
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
