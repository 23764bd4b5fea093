package dev.ublkgateway.plugins.encryption;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GcmCodecTest {
    private final byte[] key = bytes(32, 1), vol = bytes(16, 2), data = bytes(65536, 3);
    private final GcmCodec codec = new GcmCodec(key, vol);

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private byte[] encode(GcmCodec c, byte[] in, long index) throws IOException {
        byte[] out = new byte[c.maxEncodedLength(in.length)];
        int n = c.encode(MemorySegment.ofArray(in), MemorySegment.ofArray(out), index);
        return Arrays.copyOf(out, n);
    }

    private byte[] decode(GcmCodec c, byte[] in, long index) throws IOException {
        byte[] out = new byte[in.length];
        int n = c.decode(MemorySegment.ofArray(in), MemorySegment.ofArray(out), index);
        return Arrays.copyOf(out, n);
    }

    @Test
    void roundTripWithFreshNonces() throws IOException {
        byte[] a = encode(codec, data, 7), b = encode(codec, data, 7);
        assertEquals(data.length + 29, a.length);
        assertFalse(Arrays.equals(a, b), "two encodings must use different nonces");
        assertArrayEquals(data, decode(codec, a, 7));
        assertArrayEquals(data, decode(new GcmCodec(key, vol), b, 7));
        assertFalse(Arrays.equals(Arrays.copyOfRange(a, 13, 13 + 64), Arrays.copyOf(data, 64)), "not encrypted");
    }

    @Test
    void tamperedTruncatedSwappedForeignAndWrongKeyFail() throws IOException {
        byte[] enc = encode(codec, data, 7);
        for (int pos : new int[] {0, 5, 20, enc.length / 2, enc.length - 1}) {
            byte[] t = enc.clone();
            t[pos] ^= 0x10;
            assertThrows(IOException.class, () -> decode(codec, t, 7), "flipped byte " + pos);
        }
        assertThrows(IOException.class, () -> decode(codec, Arrays.copyOf(enc, enc.length - 1), 7));
        assertThrows(IOException.class, () -> decode(codec, Arrays.copyOf(enc, 20), 7));
        assertThrows(IOException.class, () -> decode(codec, enc, 8), "swapped chunk");
        assertThrows(IOException.class, () -> decode(new GcmCodec(key, bytes(16, 9)), enc, 7), "other volume");
        IOException e = assertThrows(IOException.class, () -> decode(new GcmCodec(bytes(32, 9), vol), enc, 7), "wrong key");
        assertTrue(e.getMessage().contains("authentication failed"));
    }

    @Test
    void configHidesSecretsAndChecksKeys() {
        String hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        GcmConfig c = new GcmConfig(hex, null, null, null);
        assertFalse(c.toString().contains(hex));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new GcmConfig("zz" + hex.substring(2), null, null, null));
        assertFalse(bad.getMessage().contains(hex.substring(2)));
        assertThrows(IllegalArgumentException.class, () -> new GcmConfig(null, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> new GcmConfig(hex, null, "pw", null));
        assertFalse(new XtsConfig(null, null, "secret-pass", "s", null, null).toString().contains("secret-pass"));
    }
}
