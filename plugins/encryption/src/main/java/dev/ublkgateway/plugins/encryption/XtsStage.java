package dev.ublkgateway.plugins.encryption;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;

import java.util.Arrays;

/**
 * Encrypts writes and decrypts reads with AES-256-XTS, sector number (512 bytes) as tweak; what reaches
 * the target is exactly what dm-crypt aes-xts-plain64 would have written.
 */
final class XtsStage implements BlockStage {
    private static final int BATCH = 64 * 1024;
    private final byte[] key;
    private final AesEngine engine;

    XtsStage(byte[] key, AesEngine engine) {
        this.key = key;
        this.engine = engine;
    }

    /**
     * Rewrites every byte; each queue has its own cipher state, but a sector's ciphertext depends only on
     * the key and the sector, so connections may share the device.
     */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, Capabilities.DataAccess.CHANGES, false);
    }

    @Override
    public StageQueue openQueue(QueueContext queue) {
        return new Queue(new Xts(key, true, BATCH, engine), new Xts(key, false, BATCH, engine));
    }

    @Override
    public void close() {
        Arrays.fill(key, (byte) 0);
    }

    private record Queue(Xts enc, Xts dec) implements StageQueue {
        @Override
        public int submit(BlockRequest r, TargetQueue next) {
            if (r.op() == BlockOp.WRITE) {
                enc.process(r.buffer(), r.offset() / Xts.SECTOR);
                return next.submit(r);
            }
            if (r.op() == BlockOp.READ) {
                int res = next.submit(r);
                if (res >= 0) dec.process(r.buffer(), r.offset() / Xts.SECTOR);
                return res;
            }
            return next.submit(r);
        }

        @Override
        public int completed(BlockRequest r, int result) {
            if (r.op() == BlockOp.READ && result >= 0) dec.process(r.buffer(), r.offset() / Xts.SECTOR);
            return result;
        }

        @Override
        public void close() {
            enc.close();
            dec.close();
        }
    }
}
