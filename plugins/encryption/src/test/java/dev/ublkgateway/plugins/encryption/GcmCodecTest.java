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
    void opensslAndJdkEnginesReadEachOther() throws IOException {
        assertTrue(LibCrypto.available(), "libcrypto.so.3 (libssl3) is needed for this test");
        GcmCodec ssl = new GcmCodec(key, vol, AesEngine.OPENSSL), jdk = new GcmCodec(key, vol, AesEngine.JDK);
        byte[] big = bytes((1 << 20) + 7, 4); // a chunk, and not a multiple of the AES block
        for (byte[] in : new byte[][] {data, big, new byte[0], bytes(1, 5)}) {
            assertArrayEquals(in, decode(jdk, encode(ssl, in, 3), 3));
            assertArrayEquals(in, decode(ssl, encode(jdk, in, 3), 3));
            assertArrayEquals(in, decode(ssl, encode(ssl, in, 3), 3));
        }
        // native buffers, as a ublk queue's
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment in = a.allocate(data.length), enc = a.allocate(ssl.maxEncodedLength(data.length)), out = a.allocate(data.length);
            MemorySegment.copy(data, 0, in, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            int n = ssl.encode(in, enc, 9);
            assertEquals(data.length, ssl.decode(enc.asSlice(0, n), out, 9));
            assertArrayEquals(data, out.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertArrayEquals(data, decode(jdk, enc.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), 9));
        }
        byte[] enc = encode(ssl, data, 7);
        enc[40] ^= 1;
        assertThrows(IOException.class, () -> decode(ssl, enc, 7), "tampered, openssl");
        assertThrows(IOException.class, () -> decode(jdk, enc, 7), "tampered, jdk");
        enc[40] ^= 1;
        assertThrows(IOException.class, () -> decode(ssl, enc, 8), "swapped chunk, openssl");
        assertThrows(IOException.class, () -> decode(new GcmCodec(bytes(32, 9), vol, AesEngine.OPENSSL), enc, 7), "wrong key, openssl");
        byte[] jenc = encode(jdk, data, 7);
        jenc[jenc.length - 1] ^= 1;
        assertThrows(IOException.class, () -> decode(ssl, jenc, 7), "tampered tag, openssl");
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
        GcmConfig c = new GcmConfig(hex, null, null, null, null);
        assertFalse(c.toString().contains(hex));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new GcmConfig("zz" + hex.substring(2), null, null, null, null));
        assertFalse(bad.getMessage().contains(hex.substring(2)));
        assertThrows(IllegalArgumentException.class, () -> new GcmConfig(null, null, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> new GcmConfig(hex, null, "pw", null, null));
        assertFalse(new XtsConfig(null, null, "secret-pass", "s", null, null).toString().contains("secret-pass"));
    }
}
