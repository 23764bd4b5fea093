package dev.ublkgateway.plugins.compression.bench;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.plugins.compression.Lz4CodecProvider;
import dev.ublkgateway.plugins.compression.Lz4Config;
import dev.ublkgateway.plugins.compression.ZstdCodecProvider;
import dev.ublkgateway.plugins.compression.ZstdConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The codecs on 1 MiB chunks of a corpus file (-Dcorpus=FILE), one thread: one operation encodes or
 * decodes one chunk, cycling through the file. Chunks live in native memory, as in the chunk cache.
 * The ratio (corpus bytes / stored bytes, headers included) is printed at the end of each trial.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class CodecBench {
    public static final int CHUNK = 1 << 20;

    @Param({"zstd-1", "zstd-3", "lz4"})
    public String codec;

    private Arena arena;
    private ChunkCodec c;
    private MemorySegment[] plain, encoded;
    private MemorySegment out;
    private int next;
    private long plainBytes, storedBytes;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        Path corpus = Path.of(System.getProperty("corpus", "target/corpus.tar"));
        arena = Arena.ofShared();
        DeviceDescriptor d = new DeviceDescriptor("bench", 1L << 40, 4096, 1, 128, 512 * 1024);
        c = switch (codec) {
            case "zstd-1" -> new ZstdCodecProvider().create(new ZstdConfig(1), d);
            case "zstd-3" -> new ZstdCodecProvider().create(new ZstdConfig(3), d);
            case "lz4" -> new Lz4CodecProvider().create(new Lz4Config(0), d);
            default -> throw new IllegalArgumentException(codec);
        };
        long size = Files.size(corpus) / CHUNK * CHUNK;
        if (size == 0) throw new IOException(corpus + " is smaller than one chunk");
        int n = (int) (size / CHUNK);
        plain = new MemorySegment[n];
        encoded = new MemorySegment[n];
        try (FileChannel ch = FileChannel.open(corpus, StandardOpenOption.READ)) {
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            for (int i = 0; i < n; i++) {
                plain[i] = arena.allocate(CHUNK, 4096).copyFrom(all.asSlice((long) i * CHUNK, CHUNK));
                MemorySegment e = arena.allocate(c.maxEncodedLength(CHUNK), 4096);
                int len = c.encode(plain[i], e, i);
                encoded[i] = e.asSlice(0, len);
                plainBytes += CHUNK;
                storedBytes += len;
            }
        }
        out = arena.allocate(Math.max(CHUNK, c.maxEncodedLength(CHUNK)), 4096);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.printf(Locale.ROOT, "%n%s: %d chunks of 1 MiB, ratio %.3f%n", codec, plain.length, (double) plainBytes / storedBytes);
        arena.close();
    }

    @Benchmark
    public int encode() throws IOException {
        int i = next++ % plain.length;
        return c.encode(plain[i], out, i);
    }

    @Benchmark
    public int decode() throws IOException {
        int i = next++ % encoded.length;
        return c.decode(encoded[i], out, i);
    }
}
