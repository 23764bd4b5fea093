package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.plugins.chunked.ChunkSizeBench;
import dev.ublkgateway.plugins.chunked.ChunkedTarget;
import dev.ublkgateway.plugins.encryption.GcmCodec;
import dev.ublkgateway.plugins.compression.ZstdCodecProvider;
import dev.ublkgateway.plugins.compression.ZstdConfig;
import dev.ublkgateway.plugins.s3.testing.S3ProxyServer;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;

/**
 * Benchmark (not a test): the chunked target's throughput and S3 requests per GiB on S3Proxy (its own
 * process, filesystem storage), for chunk sizes 256 KiB / 1 MiB / 4 MiB, without codecs and with
 * zstd + aes-gcm. Run with the s3 plugin's test class path:
 * {@code java -cp ... dev.ublkgateway.plugins.s3.S3VolumeBench [DIR] [VOLUME_MIB]}
 */
public final class S3VolumeBench {
    private S3VolumeBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("s3bench");
        long volume = (args.length > 1 ? Long.parseLong(args[1]) : 512) << 20;
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        try (S3ProxyServer server = S3ProxyServer.start(dir.resolve("s3"))) {
            server.createBucket("bench");
            int[] run = {0};
            ChunkSizeBench.StoreFactory stores = (chunk, fresh) -> {
                if (fresh) run[0]++;
                return S3ObjectStore.open(S3Config.of(server.endpoint(), "bench", S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                        .withPrefix("r" + run[0] + "/"));
            };
            // warm-up of both JVMs (ours and S3Proxy's JIT), not reported
            PrintStream out = System.out;
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            ChunkSizeBench.measure("warm-up", stores, List.of(), List.of(), 64L << 20);
            System.setOut(out);
            ChunkSizeBench.measure("S3Proxy (filesystem-nio2) at " + server.endpoint(), stores, List.of(), List.of(), volume);
            List<ChunkedTarget.CodecFactory> codecs = List.of(
                    info -> new ZstdCodecProvider().create(new ZstdConfig(1), new DeviceDescriptor("bench", volume, 4096, 1, 64, 512 << 10)),
                    info -> new GcmCodec(key, info.volumeId()));
            ChunkSizeBench.measure("S3Proxy, random data", stores, List.of("zstd", "aes-gcm"), codecs, volume);
        }
    }
}
