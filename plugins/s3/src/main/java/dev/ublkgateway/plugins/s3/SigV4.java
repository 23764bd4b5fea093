package dev.ublkgateway.plugins.s3;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;

/**
 * AWS Signature Version 4 for S3 requests in a single chunk: the Authorization header over the method,
 * the URI-encoded path, the query, the headers given (all of them are signed) and the payload hash.
 */
final class SigV4 {
    static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
    /** SHA-256 of no bytes: the payload hash of a GET or DELETE. */
    static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final HexFormat HEX = HexFormat.of();

    private final String region;
    private final String service;
    /** The signing key changes once a day (and with the secret): derived once, not four HMACs per request. */
    private volatile SigningKey key;

    private record SigningKey(String secret, String date, byte[] bytes) {
    }

    SigV4(String region, String service) {
        this.region = region;
        this.service = service;
    }

    /**
     * The value of the Authorization header. {@code headers}: lower-case names to trimmed values, sorted,
     * including host, x-amz-date and x-amz-content-sha256; {@code amzDate}: yyyyMMdd'T'HHmmss'Z' (UTC).
     */
    String authorization(String method, String canonicalUri, String canonicalQuery, SortedMap<String, String> headers,
                         String payloadHash, String amzDate, String accessKeyId, String secretAccessKey) {
        StringBuilder canonical = new StringBuilder(256).append(method).append('\n').append(canonicalUri).append('\n')
                .append(canonicalQuery).append('\n');
        StringBuilder signed = new StringBuilder(64);
        for (Map.Entry<String, String> h : headers.entrySet()) {
            canonical.append(h.getKey()).append(':').append(h.getValue()).append('\n');
            if (!signed.isEmpty()) signed.append(';');
            signed.append(h.getKey());
        }
        canonical.append('\n').append(signed).append('\n').append(payloadHash);
        String date = amzDate.substring(0, 8);
        String scope = date + "/" + region + "/" + service + "/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonical.toString().getBytes(StandardCharsets.UTF_8), 0, -1);
        String signature = HEX.formatHex(hmac(signingKey(secretAccessKey, date), toSign));
        return "AWS4-HMAC-SHA256 Credential=" + accessKeyId + "/" + scope + ",SignedHeaders=" + signed + ",Signature=" + signature;
    }

    private byte[] signingKey(String secret, String date) {
        SigningKey k = key;
        if (k == null || !k.date.equals(date) || !k.secret.equals(secret)) {
            byte[] b = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
            b = hmac(b, region);
            b = hmac(b, service);
            b = hmac(b, "aws4_request");
            key = k = new SigningKey(secret, date, b);
        }
        return k.bytes;
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this Java runtime", e);
        }
    }

    /** Hex SHA-256 of {@code length} bytes from {@code offset} ({@code -1}: to the end). */
    static String sha256Hex(byte[] data, int offset, int length) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(data, offset, length < 0 ? data.length - offset : length);
            return HEX.formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    /** A key as a SigV4 canonical path: UTF-8, every byte but A-Z a-z 0-9 - . _ ~ and / as %XX (S3 encodes once). */
    static String encodePath(String key) {
        byte[] b = key.getBytes(StandardCharsets.UTF_8);
        StringBuilder s = new StringBuilder(b.length + 16);
        for (byte x : b) {
            int c = x & 0xff;
            if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
                s.append((char) c);
            } else {
                s.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return s.toString();
    }
}
