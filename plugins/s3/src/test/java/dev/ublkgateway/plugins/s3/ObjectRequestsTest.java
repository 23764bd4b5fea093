package dev.ublkgateway.plugins.s3;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The lean requests against a scripted HTTP server: retries, error bodies, broken and closed connections. */
class ObjectRequestsTest {
    /** What the server saw of one request: the connection it came on, its line, headers and body. */
    record Seen(int connection, String line, Map<String, String> headers, byte[] body) {
    }

    /** One scripted answer: raw bytes, then close the connection or not. */
    record Reply(byte[] bytes, boolean close) {
        static Reply of(String text, boolean close) {
            return new Reply(text.getBytes(StandardCharsets.ISO_8859_1), close);
        }
    }

    ServerSocket server;
    final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    S3Stats stats;
    ObjectRequests objects;

    @BeforeEach
    void start() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    int id = connections.incrementAndGet();
                    Thread.ofVirtual().start(() -> serve(s, id));
                } catch (IOException e) {
                    return;
                }
            }
        });
        stats = S3Stats.of("scripted-" + System.nanoTime());
        objects = open(5, 30, 5);
    }

    ObjectRequests open(int maxAttempts, int timeoutSeconds, int attemptTimeoutSeconds) {
        S3Config c = S3Config.of("http://127.0.0.1:" + server.getLocalPort(), "vol", "AKIDTEST", "secret")
                .withLimits(maxAttempts, timeoutSeconds, attemptTimeoutSeconds);
        S3Http http = new S3Http("http", "127.0.0.1", server.getLocalPort(), 2);
        return new ObjectRequests(http, "/vol/", "eu-west-1",
                StaticCredentialsProvider.create(AwsSessionCredentials.create("AKIDTEST", "secret", "the-token")),
                c.retryPolicy(), c.attemptTimeoutSeconds(), stats);
    }

    @AfterEach
    void stop() throws IOException {
        objects.close();
        server.close();
    }

    private void serve(Socket s, int id) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) return;
                String[] lines = head.split("\r\n");
                Map<String, String> headers = new TreeMap<>();
                for (int i = 1; i < lines.length; i++) {
                    int c = lines[i].indexOf(':');
                    headers.put(lines[i].substring(0, c).strip().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).strip());
                }
                byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
                seen.add(new Seen(id, lines[0], headers, body));
                Reply r = replies.take();
                out.write(r.bytes());
                out.flush();
                if (r.close()) return;
            }
        } catch (IOException | InterruptedException e) {
            // the client went away
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0, c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) return b.toString(StandardCharsets.ISO_8859_1);
        }
        return null;
    }

    static Reply ok(String body) {
        return Reply.of("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body, false);
    }

    static Reply error(int status, String code) {
        String body = "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>scripted</Message></Error>";
        return Reply.of("HTTP/1.1 " + status + " X\r\nContent-Type: application/xml\r\nContent-Length: " + body.length() + "\r\n\r\n" + body, false);
    }

    @Test
    void serviceUnavailableTwiceThenTheObjectWithTheRetriesCounted() throws IOException {
        replies.add(error(503, "ServiceUnavailable"));
        replies.add(error(503, "ServiceUnavailable"));
        replies.add(ok("hello"));
        assertEquals("hello", new String(objects.get("a/b c").orElseThrow(), StandardCharsets.UTF_8));
        assertEquals(2, stats.retries(S3Stats.GET));
        assertEquals(3, seen.size());
        assertEquals(1, connections.get(), "error answers with a length keep the connection");
        Seen first = seen.getFirst();
        assertEquals("GET /vol/a/b%20c HTTP/1.1", first.line());
        assertEquals("127.0.0.1:" + server.getLocalPort(), first.headers().get("host"));
        assertEquals(SigV4.EMPTY_SHA256, first.headers().get("x-amz-content-sha256"));
        assertEquals("the-token", first.headers().get("x-amz-security-token"));
        assertTrue(first.headers().get("authorization").matches("AWS4-HMAC-SHA256 Credential=AKIDTEST/\\d{8}/eu-west-1/s3/aws4_request,"
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,Signature=[0-9a-f]{64}"), first.headers().toString());
    }

    @Test
    void putSendsTheSliceWithItsHashAndFailsInOneLineAfterMaxAttempts() throws IOException {
        byte[] data = "..payload..".getBytes(StandardCharsets.US_ASCII);
        replies.add(Reply.of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false));
        objects.put("k", data, 2, 7);
        assertArrayEquals("payload".getBytes(StandardCharsets.US_ASCII), seen.getLast().body());
        assertEquals(SigV4.sha256Hex(data, 2, 7), seen.getLast().headers().get("x-amz-content-sha256"));
        try (ObjectRequests three = open(3, 30, 5)) {
            for (int i = 0; i < 3; i++) replies.add(error(503, "SlowDown"));
            long t0 = System.nanoTime();
            ObjectRequests.Failure f = assertThrows(ObjectRequests.Failure.class, () -> three.put("k", data, 0, data.length));
            assertEquals("HTTP 503 SlowDown", f.getMessage());
            assertEquals(3, f.attempts);
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "throttling backs off at most 0.5 + 1 s here");
        }
    }

    @Test
    void chunkedErrorBodyIsReadWholeAndTheConnectionReused() throws IOException {
        String xml = "<Error><Code>AccessDenied</Code><Message>no</Message></Error>";
        replies.add(Reply.of("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "a\r\n" + xml.substring(0, 10) + "\r\n" + Integer.toHexString(xml.length() - 10) + "\r\n" + xml.substring(10)
                + "\r\n0\r\n\r\n", false));
        ObjectRequests.Failure f = assertThrows(ObjectRequests.Failure.class, () -> objects.get("k"));
        assertEquals("HTTP 403 AccessDenied", f.getMessage());
        assertEquals(1, f.attempts);
        assertEquals(0, stats.retries(S3Stats.GET), "403 is not retried");
        String missing = "<Error><Code>NoSuchKey</Code></Error>";
        replies.add(Reply.of("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(missing.length()) + "\r\n" + missing + "\r\n0\r\n\r\n", false));
        assertEquals(Optional.empty(), objects.get("gone"));
        assertEquals(1, connections.get(), "both answers came on one connection");
        replies.add(error(404, "NoSuchBucket"));
        assertEquals("HTTP 404 NoSuchBucket", assertThrows(ObjectRequests.Failure.class, () -> objects.get("k")).getMessage());
    }

    @Test
    void connectionDroppedInTheBodyIsRetriedOnANewConnection() throws IOException {
        replies.add(Reply.of("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it", true));
        replies.add(ok("whole"));
        assertEquals("whole", new String(objects.get("k").orElseThrow(), StandardCharsets.UTF_8));
        assertEquals(1, stats.retries(S3Stats.GET));
        assertEquals(2, connections.get());
        assertNotEquals(seen.get(0).connection(), seen.get(1).connection());
    }

    @Test
    void aBrokenAnswerOnAnOpenConnectionIsNotReused() throws IOException {
        // the server keeps the socket open after a bad chunk size: the client must not send on it again
        replies.add(Reply.of("HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false));
        replies.add(ok("fine"));
        assertEquals("fine", new String(objects.get("k").orElseThrow(), StandardCharsets.UTF_8));
        assertEquals(1, stats.retries(S3Stats.GET));
        assertNotEquals(seen.get(0).connection(), seen.get(1).connection());
    }

    @Test
    void connectionCloseIsHonoured() throws IOException {
        // the server says close but leaves the socket open; a reuse would wait for a reply that never comes
        replies.add(Reply.of("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false));
        replies.add(Reply.of("HTTP/1.1 204 No Content\r\n\r\n", false));
        assertArrayEquals(new byte[] {'x'}, objects.get("k").orElseThrow());
        objects.delete("k");
        assertEquals(0, stats.retries(S3Stats.DELETE));
        assertEquals(2, connections.get());
        assertEquals("DELETE /vol/k HTTP/1.1", seen.getLast().line());
    }

    @Test
    void aSilentServerEndsTheAttemptAndTheCallAtTheTimeout() throws IOException {
        try (ObjectRequests slow = open(100, 3, 1)) {
            long t0 = System.nanoTime();
            ObjectRequests.Failure f = assertThrows(ObjectRequests.Failure.class, () -> slow.get("k")); // no reply scripted
            double secs = (System.nanoTime() - t0) / 1e9;
            assertTrue(f.timedOut, "ended by timeout-seconds");
            assertTrue(secs >= 2.9 && secs < 6, "took " + secs + " s");
            assertTrue(f.attempts >= 2, "attempts: " + f.attempts);
        }
    }

    @Test
    void credentialsThatCannotBeHadAreAnIOErrorOfOneLine() throws IOException {
        S3Config c = S3Config.of("http://127.0.0.1:" + server.getLocalPort(), "vol", "a", "b");
        try (ObjectRequests none = new ObjectRequests(new S3Http("http", "127.0.0.1", server.getLocalPort(), 2), "/vol/", "eu-west-1",
                () -> {
                    throw software.amazon.awssdk.core.exception.SdkClientException.create("the SSO session has expired");
                }, c.retryPolicy(), 5, stats)) {
            ObjectRequests.Failure f = assertThrows(ObjectRequests.Failure.class, () -> none.get("k"));
            assertEquals("cannot get credentials: the SSO session has expired", f.getMessage());
            assertEquals(0, seen.size());
        }
    }
}
