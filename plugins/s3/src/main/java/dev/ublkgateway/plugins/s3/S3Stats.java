package dev.ublkgateway.plugins.s3;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/** Request counters of the stores on one bucket and prefix, registered with the platform MBean server. */
public final class S3Stats implements S3StatsMBean {
    static final int GET = 0, PUT = 1, DELETE = 2;
    private static final String[] OPS = {"get", "put", "delete"};

    private static final Map<String, S3Stats> ALL = new ConcurrentHashMap<>();

    private final String name;
    private final LongAdder gets = new LongAdder(), missing = new LongAdder(), puts = new LongAdder(),
            deletes = new LongAdder(), read = new LongAdder(), written = new LongAdder(), failures = new LongAdder();
    private final LongAdder[] retries = {new LongAdder(), new LongAdder(), new LongAdder()};

    private S3Stats(String name) {
        this.name = name;
    }

    static S3Stats of(String name) {
        return ALL.computeIfAbsent(name, n -> {
            S3Stats s = new S3Stats(n);
            try {
                MBeanServer server = ManagementFactory.getPlatformMBeanServer();
                ObjectName on = new ObjectName("dev.ublkgateway:type=ObjectStore,store=s3,name=" + ObjectName.quote(n));
                if (server.isRegistered(on)) server.unregisterMBean(on);
                server.registerMBean(s, on);
            } catch (JMException | RuntimeException ignored) {
                // counters still work, only not over JMX
            }
            return s;
        });
    }

    void got(int bytes) {
        gets.increment();
        read.add(bytes);
    }

    void missing() {
        gets.increment();
        missing.increment();
    }

    void put(int bytes) {
        puts.increment();
        written.add(bytes);
    }

    void deleted() {
        deletes.increment();
    }

    void failed() {
        failures.increment();
    }

    /** An attempt of a {@code GET}, {@code PUT} or {@code DELETE} call after its first. */
    void retried(int op) {
        retries[op].increment();
    }

    long retries(int op) {
        return retries[op].sum();
    }

    /** What the volume's own counting cannot see: the client's retries inside each call. */
    void report(dev.ublkgateway.api.MetricsSink sink) {
        for (int op = 0; op < OPS.length; op++) {
            sink.counter("store_retries_total", "Attempts beyond the first made for object store calls", retries(op), "op", OPS[op]);
        }
    }

    @Override
    public long getRetries() {
        return retries[GET].sum() + retries[PUT].sum() + retries[DELETE].sum();
    }

    @Override
    public long getGets() {
        return gets.sum();
    }

    @Override
    public long getGetsMissing() {
        return missing.sum();
    }

    @Override
    public long getPuts() {
        return puts.sum();
    }

    @Override
    public long getDeletes() {
        return deletes.sum();
    }

    @Override
    public long getBytesRead() {
        return read.sum();
    }

    @Override
    public long getBytesWritten() {
        return written.sum();
    }

    @Override
    public long getFailures() {
        return failures.sum();
    }

    @Override
    public String toString() {
        return name + ": " + getGets() + " GET (" + getGetsMissing() + " missing), " + getPuts() + " PUT, " + getDeletes()
                + " DELETE, " + getBytesRead() + " bytes read, " + getBytesWritten() + " written, " + getRetries() + " retries, "
                + getFailures() + " failed";
    }
}
