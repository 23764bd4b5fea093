package dev.ublkgateway.plugins.compression.bench;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.plugins.compression.Lz4CodecProvider;
import dev.ublkgateway.plugins.compression.Lz4Config;
import dev.ublkgateway.plugins.compression.ZstdCodecProvider;
import dev.ublkgateway.plugins.compression.ZstdConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * The codecs' throughput per CPU second (this thread's CPU time, not wall time), which other load on
 * the machine disturbs far less than wall-clock figures. Usage: CodecCpuTime CORPUS [SECONDS].
 * Prints one line per codec: encode and decode MB/s (10^6 bytes) of CPU time, and the ratio.
 */
public final class CodecCpuTime {
    public static void main(String[] args) throws Exception {
        Path corpus = Path.of(args[0]);
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        DeviceDescriptor d = new DeviceDescriptor("cpu", 1L << 40, 4096, 1, 128, 512 * 1024);
        int chunk = CodecBench.CHUNK;
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(corpus, StandardOpenOption.READ)) {
            int n = (int) (Files.size(corpus) / chunk);
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, (long) n * chunk, arena);
            MemorySegment[] plain = new MemorySegment[n];
            for (int i = 0; i < n; i++) plain[i] = arena.allocate(chunk, 4096).copyFrom(all.asSlice((long) i * chunk, chunk));
            for (String name : new String[] {"zstd-1", "zstd-3", "lz4"}) {
                ChunkCodec c = switch (name) {
                    case "zstd-1" -> new ZstdCodecProvider().create(new ZstdConfig(1), d);
                    case "zstd-3" -> new ZstdCodecProvider().create(new ZstdConfig(3), d);
                    default -> new Lz4CodecProvider().create(new Lz4Config(0), d);
                };
                MemorySegment[] enc = new MemorySegment[n];
                long stored = 0;
                for (int i = 0; i < n; i++) {
                    MemorySegment e = arena.allocate(c.maxEncodedLength(chunk), 4096);
                    int len = c.encode(plain[i], e, i);
                    enc[i] = e.asSlice(0, len);
                    stored += len;
                }
                MemorySegment out = arena.allocate(c.maxEncodedLength(chunk), 4096);
                double[] mbps = new double[2];
                for (int op = 0; op < 2; op++) {
                    for (int warm = 0; warm < 2; warm++) { // the second pass is measured
                        long cpu0 = mx.getCurrentThreadCpuTime(), bytes = 0;
                        long limit = (long) (seconds * (warm == 0 ? 0.3 : 1) * 1e9);
                        do {
                            for (int i = 0; i < n; i++) {
                                if (op == 0) c.encode(plain[i], out, i); else c.decode(enc[i], out, i);
                            }
                            bytes += (long) n * chunk;
                        } while (mx.getCurrentThreadCpuTime() - cpu0 < limit);
                        mbps[op] = bytes / ((mx.getCurrentThreadCpuTime() - cpu0) / 1e9) / 1e6;
                    }
                }
                System.out.printf(Locale.ROOT, "%s cpu-time encode %.0f MB/s decode %.0f MB/s ratio %.3f%n",
                        name, mbps[0], mbps[1], (double) n * chunk / stored);
            }
        }
    }
}
