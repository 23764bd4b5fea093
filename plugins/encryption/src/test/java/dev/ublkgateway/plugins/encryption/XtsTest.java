package dev.ublkgateway.plugins.encryption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XtsTest {
    private static final HexFormat HEX = HexFormat.of();

    /** IEEE 1619-2007 XTS-AES-256 vector 10: 512-byte data unit, sequence number 0xff. */
    @ParameterizedTest
    @EnumSource(value = AesEngine.class, names = {"OPENSSL", "JDK"})
    void ieee1619Vector10(AesEngine engine) {
        byte[] key = HEX.parseHex("2718281828459045235360287471352662497757247093699959574966967627"
                + "3141592653589793238462643383279502884197169399375105820974944592");
        byte[] pt = new byte[512];
        for (int i = 0; i < 512; i++) pt[i] = (byte) i;
        String ct = "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
                + "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
                + "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
                + "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
                + "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
                + "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
                + "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
                + "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
                + "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
                + "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
                + "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
                + "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
                + "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
                + "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
                + "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
                + "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151";
        MemorySegment buf = MemorySegment.ofArray(pt.clone());
        new Xts(key, true, 4096, engine).process(buf, 0xff);
        assertEquals(ct, HEX.formatHex(buf.toArray(ValueLayout.JAVA_BYTE)));
        new Xts(key, false, 4096, engine).process(buf, 0xff);
        assertArrayEquals(pt, buf.toArray(ValueLayout.JAVA_BYTE));
    }

    /** Several sectors in one call, across batch boundaries, equal sector-by-sector processing. */
    @ParameterizedTest
    @EnumSource(value = AesEngine.class, names = {"OPENSSL", "JDK"})
    void batchesEqualSingleSectors(AesEngine engine) {
        byte[] key = new byte[64];
        new Random(1).nextBytes(key);
        byte[] data = new byte[3 * 4096 + 1024];
        new Random(2).nextBytes(data);
        MemorySegment whole = MemorySegment.ofArray(data.clone());
        new Xts(key, true, 4096, engine).process(whole, 1000);
        Xts one = new Xts(key, true, 512, engine);
        for (int s = 0; s < data.length / 512; s++) {
            MemorySegment sec = MemorySegment.ofArray(data).asSlice(512L * s, 512);
            one.process(sec, 1000 + s);
        }
        assertArrayEquals(data, whole.toArray(ValueLayout.JAVA_BYTE));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment nat = a.allocate(data.length);
            nat.copyFrom(whole);
            new Xts(key, false, 8192, engine).process(nat, 1000);
            MemorySegment ref = MemorySegment.ofArray(data.clone());
            new Xts(key, false, 512, engine).process(ref, 1000);
            assertArrayEquals(ref.toArray(ValueLayout.JAVA_BYTE), nat.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** OpenSSL and the JDK agree byte for byte, both ways, over many batches and sector numbers. */
    @Test
    void enginesAgree() {
        Random r = new Random(3);
        byte[] key = new byte[64];
        r.nextBytes(key);
        try (Xts oe = new Xts(key, true, 65536, AesEngine.OPENSSL); Xts je = new Xts(key, true, 65536, AesEngine.JDK);
             Xts od = new Xts(key, false, 65536, AesEngine.OPENSSL); Xts jd = new Xts(key, false, 65536, AesEngine.JDK)) {
            for (int i = 0; i < 50; i++) {
                byte[] data = new byte[512 * (1 + r.nextInt(300))];
                r.nextBytes(data);
                long sector = r.nextLong() >>> 1;
                MemorySegment a = MemorySegment.ofArray(data.clone()), b = MemorySegment.ofArray(data.clone());
                oe.process(a, sector);
                je.process(b, sector);
                assertArrayEquals(b.toArray(ValueLayout.JAVA_BYTE), a.toArray(ValueLayout.JAVA_BYTE));
                od.process(a, sector);
                jd.process(b, sector);
                assertArrayEquals(data, a.toArray(ValueLayout.JAVA_BYTE));
                assertArrayEquals(data, b.toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }

    /** This machine has libcrypto (the project's install script puts it there), so auto picks it. */
    @Test
    void autoPrefersOpenSsl() {
        assertTrue(LibCrypto.available(), LibCrypto.missing());
        assertEquals(AesEngine.OPENSSL, AesEngine.AUTO.resolve());
        assertEquals(AesEngine.JDK, AesEngine.parse("JDK"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AesEngine.parse("fast"));
        assertEquals("engine 'fast' is unknown; use auto, openssl or jdk", e.getMessage());
    }
}
