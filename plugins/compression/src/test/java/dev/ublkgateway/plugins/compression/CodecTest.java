package dev.ublkgateway.plugins.compression;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodecTest {
    private static final int CHUNK = 256 * 1024;

    static ChunkCodec codec(String name, String device) throws IOException {
        DeviceDescriptor d = new DeviceDescriptor(device, 1L << 30, 4096, 1, 128, 512 * 1024);
        return switch (name) {
            case "zstd" -> new ZstdCodecProvider().create(new ZstdConfig(null), d);
            case "zstd-1" -> new ZstdCodecProvider().create(new ZstdConfig(1), d);
            case "lz4" -> new Lz4CodecProvider().create(new Lz4Config(null), d);
            case "lz4-hc" -> new Lz4CodecProvider().create(new Lz4Config(9), d);
            default -> throw new IllegalArgumentException(name);
        };
    }

    static byte[] text(int n) {
        byte[] line = "the quick brown fox jumps over the lazy dog 0123456789\n".getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i++) b[i] = (i % 97 == 0) ? (byte) r.nextInt() : line[i % line.length];
        return b;
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }

    private static byte[] roundTrip(ChunkCodec c, byte[] data, boolean nativeIn, boolean nativeOut) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = nativeIn ? a.allocate(data.length).copyFrom(MemorySegment.ofArray(data)) : MemorySegment.ofArray(data.clone());
            int max = c.maxEncodedLength(data.length);
            MemorySegment enc = nativeOut ? a.allocate(max) : MemorySegment.ofArray(new byte[max]);
            int n = c.encode(in, enc, 5);
            assertTrue(n <= max, "encoded " + n + " > max " + max);
            MemorySegment stored = nativeOut ? enc.asSlice(0, n) : MemorySegment.ofArray(Arrays.copyOf(enc.toArray(ValueLayout.JAVA_BYTE), n));
            MemorySegment dec = nativeIn ? a.allocate(data.length) : MemorySegment.ofArray(new byte[data.length]);
            int m = c.decode(stored, dec, 5);
            assertEquals(data.length, m);
            return dec.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"zstd", "zstd-1", "lz4", "lz4-hc"})
    void roundTripsEveryMemoryKind(String name) throws IOException {
        ChunkCodec c = codec(name, "rt-" + name);
        for (byte[] data : new byte[][] {text(CHUNK), random(CHUNK), new byte[CHUNK], new byte[0], text(10), text(4096 + 3)}) {
            for (int k = 0; k < 4; k++) {
                assertArrayEquals(data, roundTrip(c, data, (k & 1) != 0, (k & 2) != 0), name + " kind " + k + " length " + data.length);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"zstd", "lz4"})
    void compressibleDataShrinksAndIncompressibleIsStoredRawWithFlag(String name) throws IOException {
        ChunkCodec c = codec(name, "shrink-" + name);
        byte[] text = text(CHUNK);
        byte[] out = new byte[c.maxEncodedLength(CHUNK)];
        int n = c.encode(MemorySegment.ofArray(text), MemorySegment.ofArray(out), 0);
        assertTrue(n < CHUNK / 4, name + " compressed text to " + n);
        assertEquals(name.equals("zstd") ? FramedCodec.ZSTD : FramedCodec.LZ4, out[0]);

        byte[] rnd = random(CHUNK);
        n = c.encode(MemorySegment.ofArray(rnd), MemorySegment.ofArray(out), 0);
        assertEquals(CHUNK + FramedCodec.HEADER, n);
        assertEquals(FramedCodec.RAW, out[0]);
        assertArrayEquals(rnd, Arrays.copyOfRange(out, FramedCodec.HEADER, n));

        CodecStats s = CodecStats.of("shrink-" + name, name);
        assertEquals(2, s.getChunksEncoded());
        assertEquals(1, s.getChunksStoredRaw());
        assertTrue(s.getRatio() > 1.5, s.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"zstd", "lz4"})
    void everySingleBitFlipIsAnIOExceptionOrHarmless(String name) throws IOException {
        ChunkCodec c = codec(name, "flip-" + name);
        byte[] data = text(8192);
        byte[] out = new byte[c.maxEncodedLength(data.length)];
        int n = c.encode(MemorySegment.ofArray(data), MemorySegment.ofArray(out), 0);
        int detected = 0;
        for (int i = 0; i < n; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = Arrays.copyOf(out, n);
                bad[i] ^= (byte) (1 << bit);
                byte[] dec = new byte[data.length];
                try {
                    int m = c.decode(MemorySegment.ofArray(bad), MemorySegment.ofArray(dec), 0);
                    // a flip in a bit the format ignores may decode; then it must be the original data
                    assertEquals(data.length, m);
                    assertArrayEquals(data, dec, name + ": flipped bit " + bit + " of byte " + i + " gave wrong data");
                } catch (IOException e) {
                    detected++;
                }
            }
        }
        assertTrue(detected > 8 * n * 0.95, name + ": only " + detected + " of " + 8 * n + " flips were detected");
        assertEquals(detected, CodecStats.of("flip-" + name, name).getDecodeErrors());
    }

    @ParameterizedTest
    @ValueSource(strings = {"zstd", "lz4"})
    void truncatedEmptyAndGarbageAreIOExceptions(String name) throws IOException {
        ChunkCodec c = codec(name, "trunc-" + name);
        byte[] data = text(CHUNK);
        byte[] out = new byte[c.maxEncodedLength(data.length)];
        int n = c.encode(MemorySegment.ofArray(data), MemorySegment.ofArray(out), 0);
        MemorySegment dec = MemorySegment.ofArray(new byte[CHUNK]);
        for (int len : new int[] {0, 1, 8, FramedCodec.HEADER, n / 2, n - 1}) {
            MemorySegment cut = MemorySegment.ofArray(Arrays.copyOf(out, len));
            assertThrows(IOException.class, () -> c.decode(cut, dec, 0), "truncated to " + len);
        }
        MemorySegment longer = MemorySegment.ofArray(Arrays.copyOf(out, n + 1));
        assertThrows(IOException.class, () -> c.decode(longer, dec, 0), "one byte appended");
        MemorySegment garbage = MemorySegment.ofArray(random(5000));
        assertThrows(IOException.class, () -> c.decode(garbage, dec, 0));
        // an output smaller than the chunk the header announces
        MemorySegment small = MemorySegment.ofArray(new byte[CHUNK - 1]);
        MemorySegment whole = MemorySegment.ofArray(Arrays.copyOf(out, n));
        IOException e = assertThrows(IOException.class, () -> c.decode(whole, small, 0));
        assertTrue(e.getMessage().contains("header says"), e.getMessage());
    }

    @Test
    void aCodecRefusesTheOtherCodecsChunksButReadsRaw() throws IOException {
        ChunkCodec z = codec("zstd", "cross"), l = codec("lz4", "cross");
        byte[] data = text(CHUNK);
        byte[] out = new byte[z.maxEncodedLength(CHUNK)];
        int n = l.encode(MemorySegment.ofArray(data), MemorySegment.ofArray(out), 0);
        MemorySegment stored = MemorySegment.ofArray(Arrays.copyOf(out, n));
        IOException e = assertThrows(IOException.class, () -> z.decode(stored, MemorySegment.ofArray(new byte[CHUNK]), 0));
        assertTrue(e.getMessage().contains("not written by the zstd codec (lz4)"), e.getMessage());

        byte[] rnd = random(1000);
        n = l.encode(MemorySegment.ofArray(rnd), MemorySegment.ofArray(out), 0);
        byte[] back = new byte[1000];
        assertEquals(1000, z.decode(MemorySegment.ofArray(Arrays.copyOf(out, n)), MemorySegment.ofArray(back), 0));
        assertArrayEquals(rnd, back);
    }

    @Test
    void anOutputBufferBelowTheBoundIsRefused() throws IOException {
        ChunkCodec c = codec("zstd", "small");
        assertThrows(IOException.class, () -> c.encode(MemorySegment.ofArray(text(100)), MemorySegment.ofArray(new byte[100]), 0));
    }

    @Test
    void levelsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ZstdConfig(23));
        assertTrue(e.getMessage().startsWith("level 23"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ZstdConfig(0));
        assertThrows(IllegalArgumentException.class, () -> new Lz4Config(18));
        assertEquals(3, new ZstdConfig(null).level());
        assertEquals(0, new Lz4Config(null).level());
    }

    @Test
    void statsAreVisibleOverJmx() throws Exception {
        ChunkCodec c = codec("lz4", "jmx0");
        byte[] out = new byte[c.maxEncodedLength(CHUNK)];
        c.encode(MemorySegment.ofArray(text(CHUNK)), MemorySegment.ofArray(out), 0);
        Object ratio = java.lang.management.ManagementFactory.getPlatformMBeanServer()
                .getAttribute(CodecStats.objectName("jmx0", "lz4"), "Ratio");
        assertTrue((Double) ratio > 2, "ratio " + ratio);
    }
}
