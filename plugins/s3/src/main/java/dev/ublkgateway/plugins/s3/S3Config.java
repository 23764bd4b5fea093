package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.api.ConfigOption;
import dev.ublkgateway.api.RetryPolicy;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/** Options of the {@code s3} object store. */
public record S3Config(
        @ConfigOption(required = true, description = "bucket name; it must exist") String bucket,
        @ConfigOption(description = "prefix of every object key, e.g. volumes/db0/ (a / is added when missing)") String prefix,
        @ConfigOption(description = "endpoint URL of an S3-compatible server, e.g. http://127.0.0.1:9000; default: AWS") String endpoint,
        @ConfigOption(description = "region; default: with profile, its region; else the SDK's region chain (AWS_REGION, AWS_PROFILE's), "
                + "else us-east-1") String region,
        @ConfigOption(description = "path-style addressing (http://host/bucket/key)", defaultValue = "true with endpoint, else false")
        Boolean pathStyle,
        @ConfigOption(secret = true, description = "access key id; default: the SDK's credential chain (environment, web identity, "
                + "profile, container or instance role)")
        String accessKeyId,
        @ConfigOption(secret = true, description = "secret access key; with access-key-id") String secretAccessKey,
        @ConfigOption(secret = true, description = "session token of temporary credentials; with access-key-id") String sessionToken,
        @ConfigOption(description = "profile of the shared config and credentials files (~/.aws/config, ~/.aws/credentials) "
                + "to take credentials and region from: keys, assume-role, web identity, SSO, credential_process; "
                + "default: the SDK's credential chain (AWS_PROFILE or default)")
        String profile,
        @ConfigOption(description = "most requests in flight at once (and pooled connections)", defaultValue = "16") Integer maxConcurrency,
        @ConfigOption(description = "most attempts per request: throttling, 5xx and network errors are retried with backoff "
                + "(up to 5 s apart) until timeout-seconds; the default lets the time limit end an outage, not this count",
                defaultValue = "100")
        Integer maxAttempts,
        @ConfigOption(description = "seconds a request may take, retries included; then it fails with an I/O error", defaultValue = "60")
        Integer timeoutSeconds,
        @ConfigOption(description = "seconds one attempt may take", defaultValue = "20") Integer attemptTimeoutSeconds,
        @ConfigOption(description = "seconds to connect", defaultValue = "5") Integer connectTimeoutSeconds) {

    public S3Config {
        if (bucket == null || bucket.isBlank()) throw new IllegalArgumentException("bucket is empty; name an existing bucket");
        bucket = bucket.strip();
        prefix = prefix == null ? "" : prefix.strip();
        if (prefix.startsWith("/")) throw new IllegalArgumentException("prefix \"" + prefix + "\" starts with /; write it without, e.g. volumes/db0/");
        if (!prefix.isEmpty() && !prefix.endsWith("/")) prefix = prefix + "/";
        if (endpoint != null) {
            endpoint = endpoint.strip();
            try {
                URI u = new URI(endpoint);
                if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                    throw new URISyntaxException(endpoint, "not an http or https URL");
                }
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("endpoint \"" + endpoint + "\" is not an http:// or https:// URL with a host");
            }
        }
        if (region != null && region.isBlank()) region = null;
        if (pathStyle == null) pathStyle = endpoint != null;
        if ((accessKeyId == null) != (secretAccessKey == null)) {
            throw new IllegalArgumentException((accessKeyId == null ? "access-key-id" : "secret-access-key")
                    + " is missing; give both access-key-id and secret-access-key, or neither to use the SDK's credential chain");
        }
        if (sessionToken != null && accessKeyId == null) {
            throw new IllegalArgumentException("session-token needs access-key-id and secret-access-key");
        }
        profile = profile == null || profile.isBlank() ? null : profile.strip();
        if (profile != null && accessKeyId != null) {
            throw new IllegalArgumentException("profile " + profile + " and access-key-id are both set; "
                    + "remove access-key-id/secret-access-key to use the profile, or remove profile");
        }
        maxConcurrency = range("max-concurrency", maxConcurrency, 16, 1, 1024);
        maxAttempts = range("max-attempts", maxAttempts, 100, 1, 1000);
        timeoutSeconds = range("timeout-seconds", timeoutSeconds, 60, 1, 86400);
        attemptTimeoutSeconds = range("attempt-timeout-seconds", attemptTimeoutSeconds, 20, 1, 86400);
        connectTimeoutSeconds = range("connect-timeout-seconds", connectTimeoutSeconds, 5, 1, 3600);
    }

    /** Options with the defaults, for a bucket on a server with explicit credentials (tests, tools). */
    public static S3Config of(String endpoint, String bucket, String accessKeyId, String secretAccessKey) {
        return new S3Config(bucket, null, endpoint, null, null, accessKeyId, secretAccessKey, null, null, null, null, null, null, null);
    }

    /** Throttling (503 SlowDown, 429) backs off from a longer first delay than other failures. */
    static final Duration THROTTLING_BASE_DELAY = Duration.ofMillis(500);

    /**
     * The retries of every request: max-attempts, backoff with full jitter from 100 ms doubling up to 5 s
     * apart (throttling starts at 500 ms), ended by timeout-seconds.
     */
    public RetryPolicy retryPolicy() {
        return new RetryPolicy(maxAttempts, Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(timeoutSeconds));
    }

    /** A copy with other time limits and attempts. */
    public S3Config withLimits(int maxAttempts, int timeoutSeconds, int attemptTimeoutSeconds) {
        return new S3Config(bucket, prefix, endpoint, region, pathStyle, accessKeyId, secretAccessKey, sessionToken, profile,
                maxConcurrency, maxAttempts, timeoutSeconds, attemptTimeoutSeconds, connectTimeoutSeconds);
    }

    /** A copy with another profile (and no access keys). */
    public S3Config withProfile(String profile) {
        return new S3Config(bucket, prefix, endpoint, region, pathStyle, null, null, null, profile,
                maxConcurrency, maxAttempts, timeoutSeconds, attemptTimeoutSeconds, connectTimeoutSeconds);
    }

    /** A copy with another region. */
    public S3Config withRegion(String region) {
        return new S3Config(bucket, prefix, endpoint, region, pathStyle, accessKeyId, secretAccessKey, sessionToken, profile,
                maxConcurrency, maxAttempts, timeoutSeconds, attemptTimeoutSeconds, connectTimeoutSeconds);
    }

    /** A copy with another key prefix. */
    public S3Config withPrefix(String prefix) {
        return new S3Config(bucket, prefix, endpoint, region, pathStyle, accessKeyId, secretAccessKey, sessionToken, profile,
                maxConcurrency, maxAttempts, timeoutSeconds, attemptTimeoutSeconds, connectTimeoutSeconds);
    }

    private static int range(String name, Integer v, int dflt, int min, int max) {
        int x = v == null ? dflt : v;
        if (x < min || x > max) throw new IllegalArgumentException(name + " " + x + " is out of range; use " + min + " to " + max);
        return x;
    }

    @Override
    public String toString() { // never the secrets
        return "S3Config[bucket=" + bucket + ", prefix=" + prefix + ", endpoint=" + endpoint + ", region=" + region
                + ", pathStyle=" + pathStyle + ", credentials="
                + (accessKeyId != null ? "explicit (hidden)" : profile != null ? "profile " + profile : "default chain")
                + ", maxConcurrency=" + maxConcurrency + ", maxAttempts=" + maxAttempts + ", timeoutSeconds=" + timeoutSeconds
                + ", attemptTimeoutSeconds=" + attemptTimeoutSeconds + ", connectTimeoutSeconds=" + connectTimeoutSeconds + "]";
    }
}
