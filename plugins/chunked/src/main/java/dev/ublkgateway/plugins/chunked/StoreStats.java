package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.MetricsSink;

import java.util.concurrent.atomic.LongAdder;

/**
 * What a volume asked of its object store, per operation: calls, calls that failed (after their retries),
 * retries made, and bytes moved (received by a get, sent by a put). Added to by {@link CountingStore} and
 * {@link RetryingStore}; read when the metrics are scraped.
 */
final class StoreStats {
    static final int GET = 0, PUT = 1, DELETE = 2;
    private static final String[] OPS = {"get", "put", "delete"};

    private final LongAdder[] calls = adders(), failures = adders(), retries = adders(), bytes = adders();

    private static LongAdder[] adders() {
        LongAdder[] a = new LongAdder[OPS.length];
        for (int i = 0; i < a.length; i++) a[i] = new LongAdder();
        return a;
    }

    void called(int op) {
        calls[op].increment();
    }

    void failed(int op) {
        failures[op].increment();
    }

    void retried(int op) {
        retries[op].increment();
    }

    void moved(int op, long n) {
        bytes[op].add(n);
    }

    long calls(int op) {
        return calls[op].sum();
    }

    long failures(int op) {
        return failures[op].sum();
    }

    long retries(int op) {
        return retries[op].sum();
    }

    long bytes(int op) {
        return bytes[op].sum();
    }

    void report(MetricsSink sink) {
        for (int op = 0; op < OPS.length; op++) {
            sink.counter("store_requests_total", "Object store calls, by operation", calls(op), "op", OPS[op]);
            sink.counter("store_failures_total", "Object store calls that failed after their retries", failures(op),
                    "op", OPS[op]);
            sink.counter("store_retries_total", "Attempts beyond the first made for object store calls", retries(op),
                    "op", OPS[op]);
        }
        String help = "Bytes received from (get) and sent to (put) the object store";
        sink.counter("store_bytes_total", help, bytes(GET), "op", OPS[GET]);
        sink.counter("store_bytes_total", help, bytes(PUT), "op", OPS[PUT]);
    }
}
