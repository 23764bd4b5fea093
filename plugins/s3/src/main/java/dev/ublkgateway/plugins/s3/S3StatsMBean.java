package dev.ublkgateway.plugins.s3;

/** Request counters of one S3 store, readable over JMX as {@code dev.ublkgateway:type=ObjectStore,store=s3,name=...}. */
public interface S3StatsMBean {
    long getGets();

    long getGetsMissing();

    long getPuts();

    long getDeletes();

    long getBytesRead();

    long getBytesWritten();

    /** Attempts the client made beyond the first of each call. */
    long getRetries();

    /** Calls that failed after their retries. */
    long getFailures();
}
