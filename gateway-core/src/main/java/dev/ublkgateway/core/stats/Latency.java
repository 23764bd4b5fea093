package dev.ublkgateway.core.stats;

import org.HdrHistogram.Histogram;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;

/**
 * Request latencies as HdrHistograms of nanoseconds: how the stats stage makes them, how they travel
 * in the published stats file (compressed, base64) and the percentiles `ublk-gateway stats` shows.
 */
public final class Latency {
    /** One hour: longer latencies are recorded as one hour, so recording never resizes (or allocates). */
    public static final long HIGHEST_NANOS = 3_600_000_000_000L;
    /** Two significant digits: every percentile is within 1% of the true value. */
    public static final int DIGITS = 2;
    /** The percentiles shown, and their names in JSON ("p99_9" is the 99.9th). */
    private static final double[] PERCENTILES = {50, 90, 99, 99.9};
    private static final String[] NAMES = {"p50", "p90", "p99", "p99_9"};

    private Latency() {}

    /** An empty histogram of the shape every latency histogram has. */
    public static Histogram histogram() {
        return new Histogram(1, HIGHEST_NANOS, DIGITS);
    }

    /** What a recorder records for a request that took {@code nanos}: within the trackable range. */
    public static long clamp(long nanos) {
        return Math.max(1, Math.min(nanos, HIGHEST_NANOS));
    }

    public static String encode(Histogram h) {
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(buf);
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n));
    }

    /** The histogram {@link #encode} wrote; an unreadable one is an {@link IllegalArgumentException}. */
    public static Histogram decode(String base64) {
        try {
            Histogram h = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 1);
            Histogram out = histogram();
            out.add(h);
            return out;
        } catch (DataFormatException | RuntimeException e) {
            throw new IllegalArgumentException("unreadable latency histogram: " + e.getMessage(), e);
        }
    }

    /**
     * p50, p90, p99, p99_9 and max in microseconds (0 when there were no requests). Each is the highest
     * latency HdrHistogram cannot tell apart from the true percentile, so within its precision of 1%.
     */
    public static Map<String, Double> percentilesMicros(Histogram h) {
        Map<String, Double> out = new LinkedHashMap<>();
        boolean empty = h.getTotalCount() == 0;
        for (int i = 0; i < PERCENTILES.length; i++) {
            out.put(NAMES[i], empty ? 0.0 : micros(h.getValueAtPercentile(PERCENTILES[i])));
        }
        out.put("max", empty ? 0.0 : micros(h.getMaxValue()));
        return out;
    }

    /** Nanoseconds as microseconds, to the nanosecond. */
    private static double micros(long nanos) {
        return nanos / 1000.0;
    }
}
