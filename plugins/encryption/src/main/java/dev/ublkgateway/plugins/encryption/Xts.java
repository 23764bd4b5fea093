package dev.ublkgateway.plugins.encryption;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * AES-256-XTS (IEEE 1619) over 512-byte sectors with the plain64 tweak: the little-endian sector number.
 * The same output as dm-crypt {@code aes-xts-plain64} with 512-byte sectors. Not thread-safe: one per
 * queue. Works in batches: all sector tweaks of a batch are encrypted in one ECB call, expanded to the
 * per-block tweaks, then the data is XORed, ECB-processed in one call and XORed again. The AES block
 * work runs on an {@link AesEngine}; when the engine chains its decryption output (the JDK's, see
 * there), the final XOR also takes in the previous input block.
 */
public final class Xts implements AutoCloseable {
    public static final int SECTOR = 512;
    private static final int BLOCKS_PER_SECTOR = SECTOR / 16;
    private static final ValueLayout.OfLong LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final AesBlocks data, tweak;
    private final boolean inPlace, chained;
    private final int batch;
    private final long[] tweaks; // every block's tweak of a batch, as two little-endian longs
    private final byte[] work, out; // scratch for an engine that cannot work in place
    private final MemorySegment workSeg, outSeg, sectorsSeg, sectorTweaksSeg;

    /** With the engine {@code auto} picks. */
    public Xts(byte[] key, boolean encrypt, int batch) {
        this(key, encrypt, batch, AesEngine.AUTO);
    }

    /**
     * @param key   64 bytes: the data key, then the tweak key
     * @param batch bytes processed per cipher call, a multiple of 512
     */
    Xts(byte[] key, boolean encrypt, int batch, AesEngine engine) {
        if (key.length != 64) throw new IllegalArgumentException("AES-256-XTS needs a 64-byte key");
        if (batch % SECTOR != 0 || batch <= 0) throw new IllegalArgumentException("batch must be a multiple of 512");
        this.batch = batch;
        AesEngine e = engine.resolve();
        inPlace = e.inPlace();
        work = new byte[inPlace ? 0 : batch];
        out = new byte[inPlace ? 0 : batch];
        tweaks = new long[batch / 8];
        byte[] sectors = new byte[batch / BLOCKS_PER_SECTOR];
        byte[] sectorTweaks = new byte[sectors.length]; // not in place: the JDK copies in-place input, per call
        data = e.blocks(key, 0, encrypt, work, out);
        tweak = e.blocks(key, 32, true, sectors, sectorTweaks);
        chained = data.chained();
        workSeg = MemorySegment.ofArray(work);
        outSeg = MemorySegment.ofArray(out);
        sectorsSeg = MemorySegment.ofArray(sectors);
        sectorTweaksSeg = MemorySegment.ofArray(sectorTweaks);
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
        tweak.run(16 * count);
        expandTweaks(count);
        int words = n / 8;
        if (inPlace) {
            xorTweaks(buf, at, words);
            data.runInPlace(buf, at, n);
            xorTweaks(buf, at, words);
            return;
        }
        for (int i = 0; i < words; i++) workSeg.set(LE, 8L * i, buf.get(LE, at + 8L * i) ^ tweaks[i]);
        data.run(n);
        if (!chained) {
            for (int i = 0; i < words; i++) buf.set(LE, at + 8L * i, outSeg.get(LE, 8L * i) ^ tweaks[i]);
            return;
        }
        for (int i = 0; i < 2; i++) buf.set(LE, at + 8L * i, outSeg.get(LE, 8L * i) ^ tweaks[i]);
        for (int i = 2; i < words; i++) {
            buf.set(LE, at + 8L * i, outSeg.get(LE, 8L * i) ^ tweaks[i] ^ workSeg.get(LE, 8L * (i - 2)));
        }
    }

    /** Every block's tweak from its sector's T0: T0 times x^j in GF(2^128), one doubling per block. */
    private void expandTweaks(int count) {
        for (int s = 0; s < count; s++) {
            long lo = sectorTweaksSeg.get(LE, 16L * s), hi = sectorTweaksSeg.get(LE, 16L * s + 8);
            int base = s * (SECTOR / 8);
            for (int j = 0; j < BLOCKS_PER_SECTOR; j++) {
                tweaks[base + 2 * j] = lo;
                tweaks[base + 2 * j + 1] = hi;
                long carry = hi >> 63;
                hi = (hi << 1) | (lo >>> 63);
                lo = (lo << 1) ^ (carry & 0x87);
            }
        }
    }

    /** {@code buf[at + 8i] ^= tweaks[i]} over {@code words} longs: a plain loop the JIT vectorizes. */
    private void xorTweaks(MemorySegment buf, long at, int words) {
        for (int i = 0; i < words; i++) buf.set(LE, at + 8L * i, buf.get(LE, at + 8L * i) ^ tweaks[i]);
    }

    /** Overwrites the scratch buffers (they held plaintext) and frees the engine's key state. */
    @Override
    public void close() {
        Arrays.fill(work, (byte) 0);
        Arrays.fill(out, (byte) 0);
        data.close();
        tweak.close();
    }
}
