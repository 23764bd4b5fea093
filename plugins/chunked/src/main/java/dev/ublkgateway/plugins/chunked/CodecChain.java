package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ChunkCodec;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A volume's codecs in order, with scratch buffers, used by one thread at a time (borrowed from
 * {@link CodecLayer}'s pool). Encoding applies the codecs in order; decoding applies them in reverse.
 */
final class CodecChain {
    private final List<ChunkCodec> codecs;
    private byte[] a = new byte[0], b = new byte[0];

    CodecChain(List<ChunkCodec> codecs) {
        this.codecs = codecs;
    }

    List<ChunkCodec> codecs() {
        return codecs;
    }

    /** Result of a call: the bytes are valid until the next call on this chain. */
    record Bytes(byte[] data, int length) {}

    Bytes encode(byte[] in, int length, long index) throws IOException {
        byte[] cur = in;
        int len = length;
        for (ChunkCodec c : codecs) {
            byte[] out = scratchFor(cur, c.maxEncodedLength(len));
            len = c.encode(MemorySegment.ofArray(cur).asSlice(0, len), MemorySegment.ofArray(out), index);
            cur = out;
        }
        return new Bytes(cur, len);
    }

    /** Decodes into at most {@code maxLength} bytes per stage (codecs never expand on the way back beyond it). */
    Bytes decode(byte[] in, int length, long index, int maxLength) throws IOException {
        return decode(in, length, index, maxLength, false);
    }

    /**
     * As {@link #decode(byte[], int, long, int)}; with {@code fresh} the last codec decodes into a new array
     * the caller may keep (no copy of a whole chunk out of the scratch buffers).
     */
    Bytes decode(byte[] in, int length, long index, int maxLength, boolean fresh) throws IOException {
        byte[] cur = in;
        int len = length;
        for (int i = codecs.size() - 1; i >= 0; i--) {
            int n = Math.max(maxLength, len);
            byte[] out = fresh && i == 0 ? new byte[n] : scratchFor(cur, n);
            len = codecs.get(i).decode(MemorySegment.ofArray(cur).asSlice(0, len), MemorySegment.ofArray(out), index);
            cur = out;
        }
        return new Bytes(cur, len);
    }

    /** A scratch buffer of at least {@code n} bytes that is not {@code busy}. */
    private byte[] scratchFor(byte[] busy, int n) {
        if (busy != a) {
            if (a.length < n) a = new byte[n];
            return a;
        }
        if (b.length < n) b = new byte[n];
        return b;
    }
}
