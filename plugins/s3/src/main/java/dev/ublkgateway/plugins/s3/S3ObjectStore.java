package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.MetricsSource;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.RetryPolicy;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Semaphore;

/**
 * An {@link ObjectStore} on an S3 bucket: GET, PUT and DELETE of one object through {@link ObjectRequests},
 * the bucket check and LIST through the AWS SDK for Java v2 and its Apache HTTP client.
 * At most {@code max-concurrency} requests run at once (callers beyond that wait); throttling, 5xx and
 * network errors are retried with exponential backoff and jitter until {@code max-attempts} or
 * {@code timeout-seconds}, then the call fails with an {@link IOException} of one line.
 */
public final class S3ObjectStore implements ObjectStore, MetricsSource {
    /** The bucket check at open waits at most this long, so `up` fails promptly on an unreachable server. */
    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(20);

    private final S3Config config;
    private final S3Client s3;
    private final ObjectRequests objects;
    private final AwsCredentialsProvider credentials;
    private final Semaphore permits;
    private final S3Stats stats;
    private final String where;

    private S3ObjectStore(S3Config config, S3Client s3, ObjectRequests objects, AwsCredentialsProvider credentials, S3Stats stats) {
        this.config = config;
        this.s3 = s3;
        this.objects = objects;
        this.credentials = credentials;
        this.permits = new Semaphore(config.maxConcurrency());
        this.where = where(config);
        this.stats = stats;
    }

    private static String where(S3Config config) {
        return "s3://" + config.bucket() + "/" + config.prefix();
    }

    /** Builds the client and checks that the bucket exists and the credentials may use it. */
    public static S3ObjectStore open(S3Config config) throws IOException {
        Region region = S3Credentials.region(config);
        AwsCredentialsProvider credentials = S3Credentials.provider(config);
        S3Client s3;
        ObjectRequests objects;
        S3Stats stats = S3Stats.of(where(config) + (config.endpoint() == null ? "" : " at " + config.endpoint()));
        try {
            S3Credentials.check(credentials, config);
            s3 = client(config, region, credentials);
            try {
                objects = objectRequests(s3, config, region, credentials, stats);
            } catch (RuntimeException e) {
                s3.close();
                throw e;
            }
        } catch (SdkException | IllegalArgumentException e) {
            closeQuietly(credentials);
            throw new IOException("s3: cannot set up the client for bucket " + config.bucket() + ": " + oneLine(e));
        } catch (IOException e) {
            closeQuietly(credentials);
            throw e;
        }
        S3ObjectStore store = new S3ObjectStore(config, s3, objects, credentials, stats);
        try {
            store.checkBucket();
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    /** The client does not close a provider it was given; the default chain and profiles may hold an STS client. */
    private static void closeQuietly(AwsCredentialsProvider p) {
        if (p instanceof AutoCloseable a) {
            try {
                a.close();
            } catch (Exception ignored) {
                // nothing to do: it only held connections
            }
        }
    }

    /**
     * GET, PUT and DELETE of one object go the lean way; the SDK still says where an object is: its URL of a
     * probe key (path-style or virtual-hosted, endpoint override and region applied) gives scheme, host,
     * port and path prefix of every other.
     */
    private static ObjectRequests objectRequests(S3Client s3, S3Config c, Region region, AwsCredentialsProvider credentials, S3Stats stats) {
        String probe = "probe";
        java.net.URL url = s3.utilities().getUrl(b -> b.bucket(c.bucket()).key(probe));
        return ObjectRequests.of(url, probe, c, region.id(), credentials, stats);
    }

    /** The SDK's client: the bucket check at open and LIST (with its retries); the other requests: {@link ObjectRequests}. */
    private static S3Client client(S3Config c, Region region, AwsCredentialsProvider credentials) {
        S3ClientBuilder b = S3Client.builder()
                .httpClientBuilder(Apache5HttpClient.builder()
                        .maxConnections(c.maxConcurrency())
                        .connectionTimeout(Duration.ofSeconds(c.connectTimeoutSeconds()))
                        .socketTimeout(Duration.ofSeconds(c.attemptTimeoutSeconds()))
                        .connectionAcquisitionTimeout(Duration.ofSeconds(c.timeoutSeconds())))
                // chunked encoding signs every 128 KiB of a PUT separately (and copies it) on http; one
                // signature over the whole body (SHA-256, one pass) costs far less CPU per chunk
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(c.pathStyle())
                        .chunkedEncodingEnabled(false).build())
                // S3-compatible servers differ in their support of the newer checksum headers; the
                // payload is covered by SigV4 (http) or TLS (https), and the codecs check their data
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                // the retries of c.retryPolicy(), as ObjectRequests makes them
                                .maxAttempts(c.retryPolicy().maxAttempts())
                                .backoffStrategy(BackoffStrategy.exponentialDelay(c.retryPolicy().baseDelay(), c.retryPolicy().maxDelay()))
                                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(S3Config.THROTTLING_BASE_DELAY, c.retryPolicy().maxDelay()))
                                // keep retrying during an outage: the time limit ends it, not a token bucket
                                .circuitBreakerEnabled(false)
                                .build())
                        .apiCallTimeout(Duration.ofSeconds(c.timeoutSeconds()))
                        .apiCallAttemptTimeout(Duration.ofSeconds(c.attemptTimeoutSeconds()))
                        .build())
                .region(region)
                .credentialsProvider(credentials);
        if (c.endpoint() != null) b.endpointOverride(URI.create(c.endpoint()));
        return b.build();
    }

    private void checkBucket() throws IOException {
        Duration limit = Duration.ofSeconds(Math.min(config.timeoutSeconds(), OPEN_TIMEOUT.toSeconds()));
        try {
            s3.headBucket(r -> r.bucket(config.bucket()).overrideConfiguration(o -> o.apiCallTimeout(limit)));
        } catch (S3Exception e) {
            throw new IOException(bucketProblem(e));
        } catch (ApiCallTimeoutException e) {
            throw new IOException("s3: " + server() + " did not answer within " + limit.toSeconds() + " s; check endpoint and network");
        } catch (SdkClientException e) {
            String m = oneLine(e);
            if (m.contains("credentials")) {
                throw new IOException("s3: no credentials for bucket " + config.bucket() + ": set access-key-id and secret-access-key, "
                        + "or profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE for the SDK's credential chain");
            }
            throw new IOException("s3: cannot reach " + server() + ": " + m);
        }
    }

    private String bucketProblem(S3Exception e) {
        String b = "s3: bucket " + config.bucket() + " at " + server();
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        return switch (e.statusCode()) {
            case 404 -> b + " does not exist; create it or fix bucket";
            case 403 -> b + ": access denied" + (code == null ? "" : " (" + code + ")")
                    + "; check the credentials (access-key-id, secret-access-key) and the bucket's policy";
            case 400 -> b + ": the request was refused" + (code == null ? "" : " (" + code + ")")
                    + "; check region" + (config.region() == null ? " (none set)" : " (" + config.region() + ")") + " and the credentials";
            case 301 -> b + " is in another region" + e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-bucket-region")
                    .map(r -> " (" + r + "); set region: " + r).orElse("; set region to the bucket's region");
            default -> b + ": HTTP " + e.statusCode() + (code == null ? "" : " " + code) + ": " + oneLine(e);
        };
    }

    private String server() {
        return config.endpoint() != null ? config.endpoint() : "AWS S3";
    }

    private String key(String key) {
        return config.prefix() + key;
    }

    @Override
    public Optional<byte[]> get(String key) throws IOException {
        acquire();
        try {
            Optional<byte[]> data = objects.get(key(key));
            if (data.isPresent()) stats.got(data.get().length);
            else stats.missing();
            return data;
        } catch (ObjectRequests.Failure e) {
            throw failure("GET", key, e);
        } finally {
            permits.release();
        }
    }

    @Override
    public void put(String key, byte[] data, int offset, int length) throws IOException {
        java.util.Objects.checkFromIndexSize(offset, length, data.length);
        acquire();
        try {
            objects.put(key(key), data, offset, length);
            stats.put(length);
        } catch (ObjectRequests.Failure e) {
            throw failure("PUT", key, e);
        } finally {
            permits.release();
        }
    }

    @Override
    public void delete(String key) throws IOException {
        acquire();
        try {
            objects.delete(key(key));
            stats.deleted();
        } catch (ObjectRequests.Failure e) {
            throw failure("DELETE", key, e);
        } finally {
            permits.release();
        }
    }

    @Override
    public java.util.List<String> list(String prefix, boolean recursive) throws IOException {
        java.util.List<String> keys = new java.util.ArrayList<>();
        int strip = config.prefix().length();
        acquire();
        try {
            for (var page : s3.listObjectsV2Paginator(b -> {
                b.bucket(config.bucket()).prefix(key(prefix));
                if (!recursive) b.delimiter("/");
            })) {
                for (var o : page.contents()) keys.add(o.key().substring(strip));
                for (var p : page.commonPrefixes()) keys.add(p.prefix().substring(strip));
            }
        } catch (SdkException e) {
            throw failure("LIST", prefix, e);
        } finally {
            permits.release();
        }
        return keys;
    }

    private void acquire() throws IOException {
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("s3: interrupted while waiting for a free request slot");
        }
    }

    private IOException failure(String op, String key, SdkException e) {
        String why;
        if (e instanceof ApiCallTimeoutException) {
            why = timedOut();
        } else if (e instanceof ApiCallAttemptTimeoutException) {
            why = attemptTimedOut();
        } else if (e instanceof S3Exception s) {
            String code = s.awsErrorDetails() == null ? null : s.awsErrorDetails().errorCode();
            why = "HTTP " + s.statusCode() + (code == null ? "" : " " + code);
        } else {
            why = oneLine(e);
        }
        Integer attempts = e.numAttempts();
        return failed(op, key, why, attempts == null ? 1 : attempts, e);
    }

    private IOException failure(String op, String key, ObjectRequests.Failure e) {
        String why = e.timedOut ? timedOut() : e.attemptTimedOut ? attemptTimedOut() : e.getMessage();
        return failed(op, key, why, e.attempts, e);
    }

    /** The one line of a request that failed, whichever client made it; counted as a failure. */
    private IOException failed(String op, String key, String why, int attempts, Exception cause) {
        stats.failed();
        return new IOException("s3: " + op + " " + where + key + " failed: " + why + (attempts > 1 ? " (" + attempts + " attempts)" : ""), cause);
    }

    private String timedOut() {
        return "no success within " + config.timeoutSeconds() + " s (timeout-seconds)";
    }

    private String attemptTimedOut() {
        return "an attempt took longer than " + config.attemptTimeoutSeconds() + " s (attempt-timeout-seconds)";
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) m = e.getClass().getSimpleName();
        // the SDK appends "(Service: S3, Status Code: ..., Request ID: ...)" and retry notes on new lines
        return m.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    public S3Config config() {
        return config;
    }

    public S3Stats stats() {
        return stats;
    }

    /** The client's retries (the calls, failures and bytes the volume counts itself). */
    @Override
    public void reportMetrics(MetricsSink sink) {
        stats.report(sink);
    }

    /** Each request is retried under this policy (see {@link ObjectRequests} and {@link #client}). */
    @Override
    public RetryPolicy retries() {
        return config.retryPolicy();
    }

    /** Prefix {@code a/b/NAME/} beside prefix {@code a/b/VOL/}, in the same bucket with the same options. */
    @Override
    public ObjectStore sibling(String name) throws IOException {
        String p = config.prefix();
        if (p.isEmpty()) throw new IOException("s3 store " + where + " has no prefix, so no other volume is beside it; give each volume a prefix");
        String up = p.substring(0, p.substring(0, p.length() - 1).lastIndexOf('/') + 1);
        return open(config.withPrefix(up + name + "/"));
    }

    @Override
    public void close() {
        objects.close();
        s3.close();
        closeQuietly(credentials);
    }
}
