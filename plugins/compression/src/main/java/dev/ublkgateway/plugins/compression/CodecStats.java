package dev.ublkgateway.plugins.compression;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Counters of one codec on one device, shared by all codec instances the device creates, and
 * registered with the platform MBean server so the gateway (or jconsole) can show the achieved ratio.
 */
public final class CodecStats implements CodecStatsMBean {
    private static final Logger LOG = Logger.getLogger(CodecStats.class.getName());
    private static final Map<String, CodecStats> ALL = new ConcurrentHashMap<>();

    private final String device, codec;
    private final LongAdder chunksEncoded = new LongAdder(), storedRaw = new LongAdder(), bytesIn = new LongAdder(),
            bytesOut = new LongAdder(), chunksDecoded = new LongAdder(), decodeErrors = new LongAdder();

    private CodecStats(String device, String codec) {
        this.device = device;
        this.codec = codec;
    }

    /** The counters of {@code codec} on {@code device}, created (and registered over JMX) on first use. */
    public static CodecStats of(String device, String codec) {
        return ALL.computeIfAbsent(device + "\u0000" + codec, k -> {
            CodecStats s = new CodecStats(device, codec);
            s.register();
            return s;
        });
    }

    /** Every device's counters, keyed "device/codec". */
    public static Map<String, CodecStats> all() {
        Map<String, CodecStats> out = new java.util.TreeMap<>();
        for (CodecStats s : ALL.values()) out.put(s.device + "/" + s.codec, s);
        return out;
    }

    public static ObjectName objectName(String device, String codec) throws JMException {
        return new ObjectName("dev.ublkgateway:type=ChunkCodec,device=" + ObjectName.quote(device) + ",codec=" + codec);
    }

    private void register() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = objectName(device, codec);
            if (server.isRegistered(name)) server.unregisterMBean(name); // left by an unloaded plugin
            server.registerMBean(this, name);
        } catch (JMException | RuntimeException e) {
            LOG.log(Level.FINE, "cannot register codec statistics over JMX", e);
        }
    }

    /** The counters as metrics; the ratio is input over output bytes. */
    void report(dev.ublkgateway.api.MetricsSink sink) {
        sink.counter("codec_input_bytes_total", "Bytes given to the codec to encode", getBytesIn());
        sink.counter("codec_output_bytes_total", "Bytes the codec's encoding produced (headers included)", getBytesOut());
        sink.counter("codec_chunks_encoded_total", "Chunks encoded", getChunksEncoded());
        sink.counter("codec_chunks_stored_raw_total", "Chunks stored raw because they did not shrink", getChunksStoredRaw());
        sink.counter("codec_chunks_decoded_total", "Chunks decoded", getChunksDecoded());
        sink.counter("codec_decode_errors_total", "Chunks that failed to decode (corrupt or foreign data)", getDecodeErrors());
    }

    void encoded(int in, int out, boolean raw) {
        chunksEncoded.increment();
        bytesIn.add(in);
        bytesOut.add(out);
        if (raw) storedRaw.increment();
    }

    void decoded(int n) {
        chunksDecoded.increment();
    }

    void decodeFailed() {
        decodeErrors.increment();
    }

    @Override
    public long getChunksEncoded() {
        return chunksEncoded.sum();
    }

    @Override
    public long getChunksStoredRaw() {
        return storedRaw.sum();
    }

    @Override
    public long getBytesIn() {
        return bytesIn.sum();
    }

    @Override
    public long getBytesOut() {
        return bytesOut.sum();
    }

    @Override
    public double getRatio() {
        long out = bytesOut.sum();
        return out == 0 ? 1.0 : (double) bytesIn.sum() / out;
    }

    @Override
    public long getChunksDecoded() {
        return chunksDecoded.sum();
    }

    @Override
    public long getDecodeErrors() {
        return decodeErrors.sum();
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%s %s: %d chunks encoded (%d stored raw), %d -> %d bytes, ratio %.2f; "
                        + "%d decoded, %d corrupt", device, codec, getChunksEncoded(), getChunksStoredRaw(), getBytesIn(),
                getBytesOut(), getRatio(), getChunksDecoded(), getDecodeErrors());
    }
}
