package dev.ublkgateway.plugins.encryption;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Single-thread cipher throughput: aes-xts over a request buffer (off-heap, as the ublk queue hands it
 * over) on both engines, and aes-gcm over a chunk (heap, as the chunk cache holds it; the JDK's; its
 * rows do not depend on {@code engine}). Bytes/s = ops/s x size.
 * Run: java -cp TEST_CLASSPATH org.openjdk.jmh.Main CipherBench
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CipherBench {
    @Param({"4096", "1048576"})
    int size;

    @Param({"openssl", "jdk"})
    String engine;

    Xts xtsEnc, xtsDec;
    MemorySegment request;
    GcmCodec gcm;
    MemorySegment chunk, encoded, decoded;
    int encodedLength;

    @Setup
    public void setUp() throws IOException {
        Random r = new Random(1);
        byte[] key = new byte[64];
        r.nextBytes(key);
        xtsEnc = new Xts(key, true, 64 * 1024, AesEngine.parse(engine));
        xtsDec = new Xts(key, false, 64 * 1024, AesEngine.parse(engine));
        request = Arena.ofAuto().allocate(size, 4096);
        byte[] data = new byte[size];
        r.nextBytes(data);
        request.copyFrom(MemorySegment.ofArray(data));
        byte[] gkey = new byte[32], vol = new byte[16];
        r.nextBytes(gkey);
        gcm = new GcmCodec(gkey, vol);
        chunk = MemorySegment.ofArray(data.clone());
        encoded = MemorySegment.ofArray(new byte[gcm.maxEncodedLength(size)]);
        decoded = MemorySegment.ofArray(new byte[size + 64]);
        encodedLength = gcm.encode(chunk, encoded, 5);
    }

    @Benchmark
    public MemorySegment xtsEncrypt() {
        xtsEnc.process(request, 12345);
        return request;
    }

    @Benchmark
    public MemorySegment xtsDecrypt() {
        xtsDec.process(request, 12345);
        return request;
    }

    @Benchmark
    public int gcmEncrypt() throws IOException {
        return gcm.encode(chunk, encoded, 5);
    }

    @Benchmark
    public int gcmDecrypt() throws IOException {
        return gcm.decode(encoded.asSlice(0, encodedLength), decoded, 5);
    }
}
