package dev.ublkgateway.encryption;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * AES-256-XTS (IEEE 1619) over 512-byte sectors with the plain64 tweak: the little-endian sector number.
 * The same output as dm-crypt {@code aes-xts-plain64} with 512-byte sectors. Not thread-safe: one per
 * queue. Works in batches: all sector tweaks of a batch are encrypted in one ECB call, expanded to the
 * per-block tweaks, then the data is XORed, ECB-processed in one call and XORed again.
 *
 * <p>Decryption uses CBC decryption with a zero IV instead of ECB: the JDK runs CBC decryption on its
 * pipelined AES-NI code but ECB decryption a block at a time (about 5x slower). CBC yields
 * {@code D(c[i]) ^ c[i-1]}, so the final XOR also takes in the previous input block.
 */
public final class Xts {
    public static final int SECTOR = 512;
    private static final int BLOCKS_PER_SECTOR = SECTOR / 16;
    private static final ValueLayout.OfLong LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Cipher data, tweak;
    private final boolean cbc; // data is CBC decryption: undo the chaining in the final XOR
    private final int batch;
    private final byte[] work, out, sectors, sectorTweaks, tweaks;
    private final MemorySegment workSeg, outSeg, sectorsSeg, sectorTweaksSeg, tweaksSeg;

    /**
     * @param key   64 bytes: the data key, then the tweak key
     * @param batch bytes processed per cipher call, a multiple of 512
     */
    public Xts(byte[] key, boolean encrypt, int batch) {
        if (key.length != 64) throw new IllegalArgumentException("AES-256-XTS needs a 64-byte key");
        if (batch % SECTOR != 0 || batch <= 0) throw new IllegalArgumentException("batch must be a multiple of 512");
        this.batch = batch;
        try {
            SecretKeySpec dataKey = new SecretKeySpec(key, 0, 32, "AES");
            if (encrypt) {
                data = Cipher.getInstance("AES/ECB/NoPadding");
                data.init(Cipher.ENCRYPT_MODE, dataKey);
            } else {
                // every doFinal starts over from this IV, so each batch chains from zero
                data = Cipher.getInstance("AES/CBC/NoPadding");
                data.init(Cipher.DECRYPT_MODE, dataKey, new IvParameterSpec(new byte[16]));
            }
            cbc = !encrypt;
            tweak = Cipher.getInstance("AES/ECB/NoPadding");
            tweak.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, 32, 32, "AES"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES is not available: " + e.getMessage(), e);
        }
        work = new byte[batch];
        out = new byte[batch];
        tweaks = new byte[batch];
        sectors = new byte[batch / BLOCKS_PER_SECTOR];
        sectorTweaks = new byte[sectors.length]; // not in place: the JDK copies in-place input, per call
        workSeg = MemorySegment.ofArray(work);
        outSeg = MemorySegment.ofArray(out);
        sectorsSeg = MemorySegment.ofArray(sectors);
        sectorTweaksSeg = MemorySegment.ofArray(sectorTweaks);
        tweaksSeg = MemorySegment.ofArray(tweaks);
    }

    /** Encrypts (or decrypts) {@code buf} in place; it starts at 512-byte sector {@code sector}, length a multiple of 512. */
    public void process(MemorySegment buf, long sector) {
        long len = buf.byteSize();
        if (len % SECTOR != 0) throw new IllegalArgumentException("length " + len + " is not a multiple of 512");
        for (long done = 0; done < len; done += batch) {
            int n = (int) Math.min(batch, len - done);
            processBatch(buf, done, n, sector + done / SECTOR);
        }
    }

    private void processBatch(MemorySegment buf, long at, int n, long sector) {
        int count = n / SECTOR;
        // T0 of each sector = E_K2(sector number, little-endian, zero-padded to 16 bytes)
        for (int s = 0; s < count; s++) {
            sectorsSeg.set(LE, 16L * s, sector + s);
            sectorsSeg.set(LE, 16L * s + 8, 0L);
        }
        try {
            tweak.doFinal(sectors, 0, 16 * count, sectorTweaks, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        // expand to every block's tweak (multiply by alpha in GF(2^128)), XOR into the input
        for (int s = 0; s < count; s++) {
            long lo = sectorTweaksSeg.get(LE, 16L * s), hi = sectorTweaksSeg.get(LE, 16L * s + 8);
            long base = (long) s * SECTOR;
            for (int b = 0; b < BLOCKS_PER_SECTOR; b++) {
                long off = base + 16L * b;
                tweaksSeg.set(LE, off, lo);
                tweaksSeg.set(LE, off + 8, hi);
                workSeg.set(LE, off, buf.get(LE, at + off) ^ lo);
                workSeg.set(LE, off + 8, buf.get(LE, at + off + 8) ^ hi);
                long carry = hi >> 63;
                hi = (hi << 1) | (lo >>> 63);
                lo = (lo << 1) ^ (carry & 0x87);
            }
        }
        try {
            data.doFinal(work, 0, n, out, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        if (!cbc) {
            for (long off = 0; off < n; off += 8) {
                buf.set(LE, at + off, outSeg.get(LE, off) ^ tweaksSeg.get(LE, off));
            }
            return;
        }
        buf.set(LE, at, outSeg.get(LE, 0) ^ tweaksSeg.get(LE, 0));
        buf.set(LE, at + 8, outSeg.get(LE, 8) ^ tweaksSeg.get(LE, 8));
        for (long off = 16; off < n; off += 8) {
            buf.set(LE, at + off, outSeg.get(LE, off) ^ tweaksSeg.get(LE, off) ^ workSeg.get(LE, off - 16));
        }
    }

    /** Overwrites the scratch buffers (they held plaintext). */
    public void wipe() {
        Arrays.fill(work, (byte) 0);
        Arrays.fill(out, (byte) 0);
    }
}
