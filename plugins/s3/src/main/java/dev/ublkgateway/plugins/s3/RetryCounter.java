package dev.ublkgateway.plugins.s3;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * Counts the retries the client makes inside a call, by operation: every attempt it sends after the first,
 * as the attempt number it writes into each request ({@code amz-sdk-request: attempt=N; max=M}) says.
 */
final class RetryCounter implements ExecutionInterceptor {
    static final String ATTEMPT_HEADER = "amz-sdk-request";
    private final S3Stats stats;

    RetryCounter(S3Stats stats) {
        this.stats = stats;
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        int op = switch (context.request()) {
            case GetObjectRequest g -> S3Stats.GET;
            case PutObjectRequest p -> S3Stats.PUT;
            case DeleteObjectRequest d -> S3Stats.DELETE;
            default -> -1;
        };
        if (op < 0) return;
        String info = context.httpRequest().firstMatchingHeader(ATTEMPT_HEADER).orElse("");
        if (attempt(info) > 1) stats.retried(op);
    }

    /** N of "attempt=N; max=M"; 1 when absent or unreadable. */
    static int attempt(String info) {
        for (String part : info.split(";")) {
            String p = part.strip();
            if (p.startsWith("attempt=")) {
                try {
                    return Integer.parseInt(p.substring("attempt=".length()));
                } catch (NumberFormatException e) {
                    return 1;
                }
            }
        }
        return 1;
    }
}
