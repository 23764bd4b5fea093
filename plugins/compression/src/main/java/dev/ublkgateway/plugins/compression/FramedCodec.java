package dev.ublkgateway.plugins.compression;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.MetricsSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The stored form shared by the compression codecs: a 9-byte header, then the payload.
 *
 * <pre>
 * byte 0     format: 0 raw (the chunk did not shrink), 1 zstd, 2 lz4
 * bytes 1-4  length of the original chunk, little-endian
 * bytes 5-8  CRC32C of the original chunk, little-endian
 * </pre>
 *
 * A chunk is stored compressed only when that is smaller than storing it raw. Decoding checks the
 * format byte, the lengths and the CRC of what it produced, so corrupt or foreign input is an
 * {@link IOException}, never wrong data. Either codec reads raw chunks.
 */
abstract class FramedCodec implements ChunkCodec, MetricsSource {
    static final int HEADER = 9;
    static final byte RAW = 0, ZSTD = 1, LZ4 = 2;
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final byte format;
    private final CodecStats stats;
    private final CRC32C crc = new CRC32C();

    FramedCodec(byte format, CodecStats stats) {
        this.format = format;
        this.stats = stats;
    }

    /**
     * Compresses all of {@code src} into {@code dst} (both positioned at 0); returns the compressed
     * length, or -1 when it does not fit in {@code dst}'s remaining bytes.
     */
    abstract int compress(ByteBuffer src, ByteBuffer dst) throws IOException;

    /**
     * Decompresses all of {@code src} into {@code dst}, whose remaining bytes are the expected length;
     * returns the decompressed length; throws on malformed input.
     */
    abstract int decompress(ByteBuffer src, ByteBuffer dst) throws IOException;

    /** The device's counters of this codec (shared by its instances), the same numbers as over JMX. */
    @Override
    public void reportMetrics(MetricsSink sink) {
        stats.report(sink);
    }

    static String formatName(byte f) {
        return switch (f) {
            case RAW -> "raw";
            case ZSTD -> "zstd";
            case LZ4 -> "lz4";
            default -> "unknown format " + (f & 0xff);
        };
    }

    @Override
    public int maxEncodedLength(int length) {
        return HEADER + length;
    }

    @Override
    public int encode(MemorySegment in, MemorySegment out, long chunkIndex) throws IOException {
        int n = length(in, "chunk");
        if (out.byteSize() < HEADER + (long) n) {
            throw new IOException(formatName(format) + ": output buffer of " + out.byteSize() + " bytes is smaller than "
                    + maxEncodedLength(n) + " (maxEncodedLength)");
        }
        ByteBuffer src = in.asByteBuffer();
        int c = -1;
        if (n > HEADER) {
            // only worth it when the result is smaller than the chunk itself
            ByteBuffer dst = out.asSlice(HEADER, n - 1).asByteBuffer();
            c = compress(src.duplicate(), dst);
        }
        byte stored = format;
        if (c < 0) {
            MemorySegment.copy(in, 0, out, HEADER, n);
            c = n;
            stored = RAW;
        }
        out.set(ValueLayout.JAVA_BYTE, 0, stored);
        out.set(INT_LE, 1, n);
        out.set(INT_LE, 5, checksum(src));
        stats.encoded(n, HEADER + c, stored == RAW);
        return HEADER + c;
    }

    @Override
    public int decode(MemorySegment in, MemorySegment out, long chunkIndex) throws IOException {
        try {
            int n = decodeChecked(in, out, chunkIndex);
            stats.decoded(n);
            return n;
        } catch (IOException e) {
            stats.decodeFailed();
            throw e;
        }
    }

    private int decodeChecked(MemorySegment in, MemorySegment out, long chunkIndex) throws IOException {
        long len = in.byteSize();
        String what = "chunk " + chunkIndex;
        if (len < HEADER) throw new IOException(what + " is corrupt: " + len + " bytes is shorter than the " + HEADER + "-byte header");
        byte stored = in.get(ValueLayout.JAVA_BYTE, 0);
        int n = in.get(INT_LE, 1);
        int want = in.get(INT_LE, 5);
        if (n < 0 || n > out.byteSize()) {
            throw new IOException(what + " is corrupt: its header says " + Integer.toUnsignedString(n)
                    + " bytes but the chunk holds at most " + out.byteSize());
        }
        ByteBuffer dst = out.asSlice(0, n).asByteBuffer();
        if (stored == RAW) {
            if (len - HEADER != n) throw new IOException(what + " is corrupt: raw payload of " + (len - HEADER) + " bytes, header says " + n);
            MemorySegment.copy(in, HEADER, out, 0, n);
        } else if (stored == format) {
            int got;
            try {
                got = decompress(in.asSlice(HEADER).asByteBuffer(), dst.duplicate());
            } catch (IOException | RuntimeException e) {
                throw new IOException(what + " is corrupt: " + formatName(format) + " cannot decompress it (" + e.getMessage() + ")");
            }
            if (got != n) throw new IOException(what + " is corrupt: decompressed to " + got + " bytes, header says " + n);
        } else {
            throw new IOException(what + " was not written by the " + formatName(format) + " codec (" + formatName(stored)
                    + "); the volume's codec list does not match its data, or the object is corrupt");
        }
        if (checksum(dst) != want) throw new IOException(what + " is corrupt: CRC32C mismatch after " + formatName(stored) + " decoding");
        return n;
    }

    private int checksum(ByteBuffer b) {
        crc.reset();
        crc.update(b.duplicate());
        return (int) crc.getValue();
    }

    private static int length(MemorySegment s, String what) throws IOException {
        if (s.byteSize() > Integer.MAX_VALUE - HEADER) throw new IOException(what + " of " + s.byteSize() + " bytes is too large");
        return (int) s.byteSize();
    }
}
