package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.VolumeInfo;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Passes each chunk through the volume's codecs (in YAML order on the way out, in reverse on the way
 * in). A codec is used by one thread at a time, so each thread borrows a whole {@link CodecChain} from
 * a pool, which grows to the number of threads that use it at once.
 */
final class CodecLayer implements ChunkStore {
    private final ChunkStore below;
    private final List<ChunkedTarget.CodecFactory> factories;
    private final VolumeInfo info;
    private final int maxPlain;
    private final ConcurrentLinkedQueue<CodecChain> chains = new ConcurrentLinkedQueue<>();

    /** @param maxPlain the most bytes a chunk decodes to */
    CodecLayer(ChunkStore below, List<ChunkedTarget.CodecFactory> factories, VolumeInfo info, int maxPlain) {
        this.below = below;
        this.factories = factories;
        this.info = info;
        this.maxPlain = maxPlain;
    }

    /** The codecs of one chain in the pool (none before the first use); their counters are the volume's. */
    List<ChunkCodec> sample() {
        CodecChain c = chains.peek();
        return c == null ? List.of() : c.codecs();
    }

    private CodecChain borrow() throws IOException {
        CodecChain c = chains.poll();
        if (c != null) return c;
        List<ChunkCodec> list = new ArrayList<>();
        for (ChunkedTarget.CodecFactory f : factories) list.add(f.create(info));
        return new CodecChain(list);
    }

    /** {@code in[0, length)} encoded as part {@code index} of the volume (a chunk, or the map or key check). */
    byte[] encode(byte[] in, int length, long index) throws IOException {
        CodecChain c = borrow();
        try {
            CodecChain.Bytes out = c.encode(in, length, index);
            return Arrays.copyOf(out.data(), out.length());
        } finally {
            chains.add(c);
        }
    }

    /** {@code in} decoded as part {@code index}, into at most {@code maxLength} bytes. */
    byte[] decode(byte[] in, long index, int maxLength) throws IOException {
        CodecChain c = borrow();
        try {
            boolean fresh = !c.codecs().isEmpty();
            CodecChain.Bytes out = c.decode(in, in.length, index, maxLength, fresh);
            return fresh && out.length() == out.data().length ? out.data() : Arrays.copyOf(out.data(), out.length());
        } finally {
            chains.add(c);
        }
    }

    @Override
    public byte[] read(long index) throws IOException {
        return decoded(index, below.read(index));
    }

    @Override
    public byte[] read(long index, long gen) throws IOException {
        return decoded(index, below.read(index, gen));
    }

    private byte[] decoded(long index, byte[] stored) throws IOException {
        if (stored == null) return null;
        try {
            return decode(stored, index, maxPlain);
        } catch (IOException e) {
            throw new IOException("chunk " + index + " cannot be decoded (" + e.getMessage() + ")");
        }
    }

    @Override
    public void write(long index, byte[] data, int length) throws IOException {
        write(index, -1, data, length);
    }

    /** The codecs bind the chunk's index (aes-gcm: as associated data); the generation is in the encoded trailer. */
    @Override
    public void write(long index, long gen, byte[] data, int length) throws IOException {
        CodecChain c = borrow();
        try {
            CodecChain.Bytes out = c.encode(data, length, index);
            if (gen < 0) below.write(index, out.data(), out.length());
            else below.write(index, gen, out.data(), out.length());
        } finally {
            chains.add(c);
        }
    }

    @Override
    public void delete(long index, long gen) throws IOException {
        below.delete(index, gen);
    }

    @Override
    public void delete(long index) throws IOException {
        below.delete(index);
    }
}
