package dev.ublkgateway.plugins.compression;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

import java.io.IOException;
import java.nio.ByteBuffer;

/** LZ4 block format through lz4-java (its native build where the platform has one). */
final class Lz4Codec extends FramedCodec {
    private final LZ4Compressor compressor;
    private final LZ4SafeDecompressor decompressor;

    /** @param level 0 for the fast compressor, 1 to 17 for LZ4 HC at that level */
    Lz4Codec(int level, CodecStats stats) {
        super(LZ4, stats);
        LZ4Factory f = LZ4Factory.fastestInstance();
        this.compressor = level == 0 ? f.fastCompressor() : f.highCompressor(level);
        this.decompressor = f.safeDecompressor();
    }

    @Override
    int compress(ByteBuffer src, ByteBuffer dst) {
        try {
            return compressor.compress(src, 0, src.remaining(), dst, 0, dst.remaining());
        } catch (LZ4Exception e) {
            return -1; // does not fit: the chunk is stored raw
        }
    }

    @Override
    int decompress(ByteBuffer src, ByteBuffer dst) throws IOException {
        try {
            return decompressor.decompress(src, 0, src.remaining(), dst, 0, dst.remaining());
        } catch (LZ4Exception e) {
            throw new IOException(e.getMessage());
        }
    }
}
