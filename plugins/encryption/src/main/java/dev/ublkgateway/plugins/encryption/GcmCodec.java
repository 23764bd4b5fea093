package dev.ublkgateway.plugins.encryption;

import dev.ublkgateway.api.ChunkCodec;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * AES-256-GCM per chunk: {@code version(1) || nonce(12) || ciphertext || tag(16)}, a fresh random nonce
 * each time, and {@code "ublkgw-gcm1" || volume id || chunk index} as additional authenticated data, so
 * an object moved to another chunk or volume, or changed in any way, fails to decode.
 */
public final class GcmCodec implements ChunkCodec {
    static final byte VERSION = 1;
    static final int NONCE = 12, TAG = 16, HEADER = 1 + NONCE, SLICE = 64 * 1024;
    private static final byte[] LABEL = "ublkgw-gcm1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final LibCrypto.Gcm openssl; // null: the JDK's provider
    private final Cipher cipher;
    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();
    private final byte[] nonce = new byte[NONCE];
    private final byte[] aad;
    private final MemorySegment aadIndex, aadSegment, nonceSegment;

    private static final String AUTH_FAILED = "aes-gcm: authentication failed (the object was altered, truncated, moved from another"
            + " chunk or volume, or the key is wrong)";
    private static final java.util.concurrent.atomic.AtomicBoolean WARMED = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * (For the JDK's engine.) The JDK runs AES-GCM on AES-NI/CLMUL only from compiled code, and a method called a few times per
     * second with 1 MiB (one chunk each) stays interpreted for a long time: tens of MB/s. Small calls
     * once at start get the JDK's GCM code compiled (in the background, about a second).
     */
    private static void warmUp() {
        try {
            GcmCodec c = new GcmCodec(new byte[32], new byte[16], AesEngine.JDK, false);
            MemorySegment in = MemorySegment.ofArray(new byte[256]);
            MemorySegment enc = MemorySegment.ofArray(new byte[c.maxEncodedLength(256)]);
            MemorySegment dec = MemorySegment.ofArray(new byte[256]);
            for (int i = 0; i < 30_000; i++) {
                int n = c.encode(in, enc, i);
                c.decode(enc.asSlice(0, n), dec, i);
            }
        } catch (IOException | RuntimeException e) {
            // only a speed-up
        }
    }

    /** On OpenSSL when it is installed, else on the JDK. */
    public GcmCodec(byte[] key, byte[] volumeId) {
        this(key, volumeId, AesEngine.AUTO);
    }

    /** @param engine where the AES work runs; both write the same bytes (standard GCM), so either reads the other's */
    GcmCodec(byte[] key, byte[] volumeId, AesEngine engine) {
        this(key, volumeId, engine, true);
    }

    private GcmCodec(byte[] key, byte[] volumeId, AesEngine engine, boolean warm) {
        if (key.length != 32) throw new IllegalArgumentException("AES-256-GCM needs a 32-byte key");
        boolean native_ = engine.resolve() == AesEngine.OPENSSL;
        if (native_ && !LibCrypto.available()) throw new IllegalStateException(LibCrypto.missing());
        // OpenSSL runs at full speed from the first chunk: no JIT warm-up, no Java GHASH
        openssl = native_ ? LibCrypto.gcm(key) : null;
        if (!native_ && warm && WARMED.compareAndSet(false, true)) Thread.ofPlatform().daemon().name("aes-gcm-warm-up").start(GcmCodec::warmUp);
        this.key = new SecretKeySpec(key, "AES");
        try {
            cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e.getMessage(), e);
        }
        aad = new byte[LABEL.length + volumeId.length + 8];
        System.arraycopy(LABEL, 0, aad, 0, LABEL.length);
        System.arraycopy(volumeId, 0, aad, LABEL.length, volumeId.length);
        aadSegment = MemorySegment.ofArray(aad);
        aadIndex = aadSegment.asSlice(LABEL.length + volumeId.length);
        nonceSegment = MemorySegment.ofArray(nonce);
    }

    @Override
    public int maxEncodedLength(int length) {
        return HEADER + length + TAG;
    }

    @Override
    public int encode(MemorySegment in, MemorySegment out, long chunkIndex) throws IOException {
        random.nextBytes(nonce);
        aadIndex.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, chunkIndex);
        if (openssl != null) {
            out.set(ValueLayout.JAVA_BYTE, 0, VERSION);
            MemorySegment.copy(nonceSegment, 0, out, 1, NONCE);
            return HEADER + openssl.encrypt(nonceSegment, aadSegment, in, out.asSlice(HEADER));
        }
        try {
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG * 8, nonce));
            cipher.updateAAD(aad);
            out.set(ValueLayout.JAVA_BYTE, 0, VERSION);
            MemorySegment.copy(MemorySegment.ofArray(nonce), 0, out, 1, NONCE);
            return HEADER + doFinal(in, out.asSlice(HEADER), SLICE);
        } catch (GeneralSecurityException e) {
            throw new IOException("AES-GCM encryption failed: " + e.getMessage());
        }
    }

    /** Heap segments go through the array API (much faster in the JDK's GCM than heap ByteBuffers). */
    private int doFinal(MemorySegment in, MemorySegment out, int slice) throws GeneralSecurityException {
        if (in.heapBase().orElse(null) instanceof byte[] ia && out.heapBase().orElse(null) instanceof byte[] oa) {
            int off = (int) in.address(), len = (int) in.byteSize(), o = (int) out.address(), done = 0;
            for (; len - done > slice; done += slice) o += cipher.update(ia, off + done, slice, oa, o);
            return o - (int) out.address() + cipher.doFinal(ia, off + done, len - done, oa, o);
        }
        return cipher.doFinal(in.asByteBuffer(), out.asByteBuffer());
    }

    @Override
    public int decode(MemorySegment in, MemorySegment out, long chunkIndex) throws IOException {
        long len = in.byteSize();
        if (len < HEADER + TAG) throw new IOException("aes-gcm: object of " + len + " bytes is truncated (authentication impossible)");
        if (in.get(ValueLayout.JAVA_BYTE, 0) != VERSION) throw new IOException("aes-gcm: unknown object version " + in.get(ValueLayout.JAVA_BYTE, 0));
        MemorySegment.copy(in, 1, MemorySegment.ofArray(nonce), 0, NONCE);
        aadIndex.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, chunkIndex);
        if (openssl != null) {
            if (out.byteSize() < len - HEADER - TAG) throw new IOException("aes-gcm: object of " + len + " bytes is larger than a chunk");
            if (!openssl.decrypt(nonceSegment, aadSegment, in.asSlice(HEADER), out)) throw new IOException(AUTH_FAILED);
            return (int) (len - HEADER - TAG);
        }
        try {
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG * 8, nonce));
            cipher.updateAAD(aad);
            // in one call: updates before the final one make the JDK buffer (and copy) all the ciphertext
            return doFinal(in.asSlice(HEADER), out, Integer.MAX_VALUE);
        } catch (AEADBadTagException e) {
            throw new IOException(AUTH_FAILED);
        } catch (GeneralSecurityException e) {
            throw new IOException("aes-gcm: decryption failed: " + e.getMessage());
        }
    }
}
