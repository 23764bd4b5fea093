package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.api.RetryPolicy;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URL;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The hot requests of the store, GET, PUT and DELETE of one object, signed (SigV4) and sent over
 * {@link S3Http} with the retries of {@link S3Config#retryPolicy()}: the SDK's generic request pipeline
 * costs several times the CPU of the request itself, most of all in a freshly started JVM. Endpoint,
 * region and credentials still come from the SDK (see {@link #of}).
 */
final class ObjectRequests implements AutoCloseable {
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** Why every attempt failed, and how many there were; the store words the one-line error. */
    static final class Failure extends IOException {
        final int status;
        final String code;
        final int attempts;
        final boolean timedOut, attemptTimedOut;

        Failure(String why, int status, String code, int attempts, boolean timedOut, boolean attemptTimedOut, Throwable cause) {
            super(why, cause);
            this.status = status;
            this.code = code;
            this.attempts = attempts;
            this.timedOut = timedOut;
            this.attemptTimedOut = attemptTimedOut;
        }
    }

    private final S3Http http;
    private final String basePath;
    private final SigV4 signer;
    private final AwsCredentialsProvider credentials;
    private final RetryPolicy policy;
    private final long attemptNanos;
    private final S3Stats stats;
    private volatile DateStamp date = new DateStamp(-1, null);

    private record DateStamp(long second, String text) {
    }

    /** A final answer and the attempts it took. */
    private record Answer(int status, byte[] body, String code, int attempts) {
    }

    ObjectRequests(S3Http http, String basePath, String region, AwsCredentialsProvider credentials, RetryPolicy policy,
                   int attemptTimeoutSeconds, S3Stats stats) {
        this.http = http;
        this.basePath = basePath;
        this.signer = new SigV4(region, "s3");
        this.credentials = credentials;
        this.policy = policy;
        this.attemptNanos = TimeUnit.SECONDS.toNanos(attemptTimeoutSeconds);
        this.stats = stats;
    }

    /**
     * The requests for the object URLs the SDK makes: {@code objectUrl} is its URL of the key {@code probeKey}
     * (path-style or virtual-hosted, endpoint override and region applied), the others differ only in the key.
     */
    static ObjectRequests of(URL objectUrl, String probeKey, S3Config c, String region, AwsCredentialsProvider credentials, S3Stats stats) {
        String path = objectUrl.getPath();
        if (!path.endsWith("/" + probeKey)) throw new IllegalArgumentException("unexpected object URL " + objectUrl);
        String base = path.substring(0, path.length() - probeKey.length());
        S3Http http = new S3Http(objectUrl.getProtocol(), objectUrl.getHost(), objectUrl.getPort(), c.connectTimeoutSeconds());
        return new ObjectRequests(http, base, region, credentials, c.retryPolicy(), c.attemptTimeoutSeconds(), stats);
    }

    /** The object's bytes, or empty when there is no such key (not when there is no such bucket). */
    Optional<byte[]> get(String key) throws IOException {
        Answer r = call(S3Stats.GET, "GET", key, null, 0, 0);
        if (r.status() == 200) return Optional.of(r.body());
        if (r.status() == 404 && !"NoSuchBucket".equals(r.code())) return Optional.empty();
        throw refused(r);
    }

    void put(String key, byte[] data, int offset, int length) throws IOException {
        Answer r = call(S3Stats.PUT, "PUT", key, data, offset, length);
        if (r.status() / 100 != 2) throw refused(r);
    }

    /** Deleting a missing object is no error. */
    void delete(String key) throws IOException {
        Answer r = call(S3Stats.DELETE, "DELETE", key, null, 0, 0);
        if (r.status() / 100 == 2 || r.status() == 404 && !"NoSuchBucket".equals(r.code())) return;
        throw refused(r);
    }

    private static Failure refused(Answer r) {
        return new Failure("HTTP " + r.status() + (r.code() == null ? "" : " " + r.code()), r.status(), r.code(), r.attempts(), false, false, null);
    }

    /**
     * Sends the request until an answer that is not retried, or max-attempts, or timeout-seconds:
     * network errors, 5xx, 429 and 400 RequestTimeout are retried after a full-jitter backoff.
     */
    private Answer call(int op, String method, String key, byte[] body, int offset, int length) throws IOException {
        String target = basePath + SigV4.encodePath(key);
        String payloadHash = http.tls() ? SigV4.UNSIGNED_PAYLOAD // TLS covers the body
                : length == 0 ? SigV4.EMPTY_SHA256 : SigV4.sha256Hex(body, offset, length);
        long start = System.nanoTime(), deadline = start + policy.timeout().toNanos();
        for (int attempt = 1; ; attempt++) {
            if (attempt > 1) stats.retried(op);
            long attemptDeadline = Math.min(deadline, System.nanoTime() + attemptNanos);
            String why;
            int status = 0;
            String code = null;
            IOException cause = null;
            boolean throttled = false;
            AwsCredentials c;
            try {
                c = credentials.resolveCredentials(); // the providers cache and refresh
            } catch (RuntimeException e) { // e.g. expired SSO login, STS unreachable: an I/O error of one line, not a crash
                throw new Failure("cannot get credentials: " + S3ObjectStore.oneLine(e), 0, null, attempt, false, false, e);
            }
            try {
                S3Http.Response r = http.exchange(method, target, headers(c, method, target, payloadHash), body, offset,
                        length, attemptDeadline);
                code = r.status() >= 300 ? r.errorCode() : null;
                if (!retried(r.status(), code)) return new Answer(r.status(), r.body(), code, attempt);
                status = r.status();
                why = "HTTP " + status + (code == null ? "" : " " + code);
                throttled = status == 429 || code != null && (code.equals("SlowDown") || code.startsWith("Throttl") || code.equals("TooManyRequests"));
            } catch (S3Http.AttemptTimeoutException e) {
                if (System.nanoTime() - deadline >= 0) throw timedOut(attempt, e);
                why = null;
                cause = e;
            } catch (IOException e) {
                why = networkError(e);
                cause = e;
            }
            if (attempt >= policy.maxAttempts()) {
                boolean attemptTimedOut = cause instanceof S3Http.AttemptTimeoutException;
                throw new Failure(why, status, code, attempt, false, attemptTimedOut, cause);
            }
            long cap = Math.min(policy.maxDelay().toNanos(), (throttled ? S3Config.THROTTLING_BASE_DELAY : policy.baseDelay()).toNanos() << Math.min(attempt - 1, 30));
            long delay = ThreadLocalRandom.current().nextLong(cap + 1);
            long left = deadline - System.nanoTime();
            if (delay >= left) {
                sleep(Math.max(0, left));
                throw timedOut(attempt, cause);
            }
            sleep(delay);
        }
    }

    private static boolean retried(int status, String code) {
        return status >= 500 || status == 429 || status == 400 && "RequestTimeout".equals(code);
    }

    private Failure timedOut(int attempts, Throwable cause) {
        return new Failure(null, 0, null, attempts, true, false, cause);
    }

    private String networkError(IOException e) {
        String m = S3ObjectStore.oneLine(e);
        if (e instanceof ConnectException || e instanceof UnknownHostException) return "cannot connect to " + http.hostHeader() + ": " + m;
        return "connection to " + http.hostHeader() + " failed: " + m;
    }

    private static void sleep(long nanos) throws InterruptedIOException {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("s3: interrupted while waiting to retry");
        }
    }

    /** The header lines of one attempt, signed with {@code c} (each attempt has its own date). */
    private String headers(AwsCredentials c, String method, String target, String payloadHash) {
        String date = amzDate();
        TreeMap<String, String> signed = new TreeMap<>();
        signed.put("host", http.hostHeader());
        signed.put("x-amz-content-sha256", payloadHash);
        signed.put("x-amz-date", date);
        String token = c instanceof AwsSessionCredentials s ? s.sessionToken() : null;
        if (token != null) signed.put("x-amz-security-token", token);
        String auth = signer.authorization(method, target, "", signed, payloadHash, date, c.accessKeyId(), c.secretAccessKey());
        StringBuilder h = new StringBuilder(512).append("Authorization: ").append(auth).append("\r\n")
                .append("x-amz-content-sha256: ").append(payloadHash).append("\r\n")
                .append("x-amz-date: ").append(date).append("\r\n");
        if (token != null) h.append("x-amz-security-token: ").append(token).append("\r\n");
        if ("PUT".equals(method)) h.append("Content-Type: application/octet-stream\r\n");
        return h.toString();
    }

    /** Now as yyyyMMdd'T'HHmmss'Z', formatted once a second. */
    private String amzDate() {
        long now = System.currentTimeMillis() / 1000;
        DateStamp d = date;
        if (d.second() != now) date = d = new DateStamp(now, AMZ_DATE.format(Instant.ofEpochSecond(now)));
        return d.text();
    }

    @Override
    public void close() {
        http.close();
    }
}
