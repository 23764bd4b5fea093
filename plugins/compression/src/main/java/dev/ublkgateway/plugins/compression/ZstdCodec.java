package dev.ublkgateway.plugins.compression;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;

import java.io.IOException;
import java.nio.ByteBuffer;

/** zstd through zstd-jni, one compression and one decompression context per codec instance. */
final class ZstdCodec extends FramedCodec {
    private final ZstdCompressCtx cctx;
    private final ZstdDecompressCtx dctx;
    private ByteBuffer scratchIn, scratchOut;

    ZstdCodec(int level, CodecStats stats) {
        super(ZSTD, stats);
        // the frame's own checksum is off: the header's CRC32C covers the data for every format
        this.cctx = new ZstdCompressCtx().setLevel(level).setChecksum(false).setContentSize(true);
        this.dctx = new ZstdDecompressCtx();
    }

    @Override
    int compress(ByteBuffer src, ByteBuffer dst) {
        try {
            if (src.isDirect() && dst.isDirect()) {
                return cctx.compressDirectByteBuffer(dst, 0, dst.remaining(), src, 0, src.remaining());
            }
            if (src.hasArray() && dst.hasArray()) {
                return cctx.compressByteArray(dst.array(), dst.arrayOffset(), dst.remaining(),
                        src.array(), src.arrayOffset(), src.remaining());
            }
            ByteBuffer s = src.isDirect() ? src : copyIn(src);
            ByteBuffer d = dst.isDirect() ? dst : scratchOut(dst.remaining());
            int c = cctx.compressDirectByteBuffer(d, 0, dst.remaining(), s, 0, s.remaining());
            if (d != dst) dst.put(0, d, 0, c);
            return c;
        } catch (ZstdException e) {
            return -1; // does not fit: the chunk is stored raw
        }
    }

    @Override
    int decompress(ByteBuffer src, ByteBuffer dst) throws IOException {
        try {
            if (src.isDirect() && dst.isDirect()) {
                return dctx.decompressDirectByteBuffer(dst, 0, dst.remaining(), src, 0, src.remaining());
            }
            if (src.hasArray() && dst.hasArray()) {
                return dctx.decompressByteArray(dst.array(), dst.arrayOffset(), dst.remaining(),
                        src.array(), src.arrayOffset(), src.remaining());
            }
            if (src.hasArray() && dst.isDirect()) {
                return dctx.decompressByteArrayToDirectByteBuffer(dst, 0, dst.remaining(),
                        src.array(), src.arrayOffset(), src.remaining());
            }
            if (src.isDirect() && dst.hasArray()) {
                return dctx.decompressDirectByteBufferToByteArray(dst.array(), dst.arrayOffset(), dst.remaining(),
                        src, 0, src.remaining());
            }
            ByteBuffer s = src.isDirect() ? src : copyIn(src);
            ByteBuffer d = scratchOut(dst.remaining());
            int n = dctx.decompressDirectByteBuffer(d, 0, dst.remaining(), s, 0, s.remaining());
            dst.put(0, d, 0, n);
            return n;
        } catch (ZstdException e) {
            throw new IOException(e.getMessage());
        }
    }

    private ByteBuffer copyIn(ByteBuffer src) {
        int n = src.remaining();
        if (scratchIn == null || scratchIn.capacity() < n) scratchIn = ByteBuffer.allocateDirect(n);
        ByteBuffer s = scratchIn.clear().limit(n);
        s.put(0, src, src.position(), n);
        return s;
    }

    private ByteBuffer scratchOut(int n) {
        if (scratchOut == null || scratchOut.capacity() < n) scratchOut = ByteBuffer.allocateDirect(n);
        return scratchOut.clear().limit(n);
    }
}
