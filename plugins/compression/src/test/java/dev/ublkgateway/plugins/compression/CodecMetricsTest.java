package dev.ublkgateway.plugins.compression;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.MetricsSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/** A compression codec reports to the metrics endpoint the numbers its JMX bean shows. */
class CodecMetricsTest {
    static Map<String, Long> scrape(ChunkCodec c) {
        Map<String, Long> out = new TreeMap<>();
        ((MetricsSource) c).reportMetrics(new MetricsSink() {
            public void counter(String name, String help, long value, String... labels) {
                assertEquals(0, labels.length, "the volume adds the codec label");
                assertNull(out.put(name, value), name + " reported twice");
            }

            public void gauge(String name, String help, double value, String... labels) {
                fail("only counters: " + name);
            }
        });
        return out;
    }

    @Test
    void bytesInAndOutAreTheBeansAndSharedByTheDevicesInstances() throws IOException {
        ChunkCodec one = CodecTest.codec("zstd", "metrics-zstd"), two = CodecTest.codec("zstd", "metrics-zstd");
        byte[] text = CodecTest.text(64 * 1024), out = new byte[one.maxEncodedLength(text.length)];
        int a = one.encode(MemorySegment.ofArray(text), MemorySegment.ofArray(out), 0);
        int b = two.encode(MemorySegment.ofArray(text), MemorySegment.ofArray(out), 1);
        two.decode(MemorySegment.ofArray(out).asSlice(0, b), MemorySegment.ofArray(new byte[text.length]), 1);

        Map<String, Long> m = scrape(one);
        assertEquals(scrape(two), m, "instances of one codec on one device share their counters");
        assertEquals(2L * text.length, m.get("codec_input_bytes_total"));
        assertEquals((long) a + b, m.get("codec_output_bytes_total"));
        assertEquals(2, m.get("codec_chunks_encoded_total"));
        assertEquals(0, m.get("codec_chunks_stored_raw_total"));
        assertEquals(1, m.get("codec_chunks_decoded_total"));
        assertEquals(0, m.get("codec_decode_errors_total"));
        CodecStats bean = CodecStats.of("metrics-zstd", "zstd");
        assertEquals(bean.getBytesIn(), m.get("codec_input_bytes_total"));
        assertEquals(bean.getBytesOut(), m.get("codec_output_bytes_total"));
    }
}
