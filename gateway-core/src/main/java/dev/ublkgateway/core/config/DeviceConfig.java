package dev.ublkgateway.core.config;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One device of the configuration.
 *
 * @param name unique name, {@code [a-z0-9][a-z0-9._-]{0,31}}
 * @param sizeBytes device size, a positive multiple of {@code blockSize}
 * @param blockSize logical block size: 512, 1024, 2048 or 4096
 * @param queues hardware queues, 1..64
 * @param depth queue depth, 1..4096
 * @param maxIoBytes largest single I/O (ublk max_io_buf_bytes), a power of two in 4 KiB..32 MiB
 * @param recovery keep the device across a gateway crash so that it can be recovered
 * @param target the bound target
 * @param stages the stages a request passes, in this order, before it reaches the target; empty
 *     when the device has none
 * @param frontend how the device is served (ublk, NBD or auto) and the NBD listen options
 */
public record DeviceConfig(
        String name,
        long sizeBytes,
        int blockSize,
        int queues,
        int depth,
        int maxIoBytes,
        boolean recovery,
        ComponentSpec target,
        List<ComponentSpec> stages,
        FrontendConfig frontend) {

    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,31}");
    public static final int DEFAULT_BLOCK_SIZE = 4096;
    public static final int MIN_BLOCK_SIZE = 512;
    public static final int MAX_BLOCK_SIZE = 4096;
    public static final int DEFAULT_QUEUES = 1;
    public static final int MAX_QUEUES = 64;
    public static final int DEFAULT_DEPTH = 128;
    public static final int MAX_DEPTH = 4096;
    public static final int DEFAULT_MAX_IO_BYTES = 512 * 1024;
    public static final int MIN_MAX_IO_BYTES = 4 * 1024;
    public static final int MAX_MAX_IO_BYTES = 32 * 1024 * 1024;

    /** @throws IllegalArgumentException if a value is out of its range */
    public DeviceConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(target, "target");
        stages = stages == null ? List.of() : List.copyOf(stages);
        frontend = frontend == null ? FrontendConfig.DEFAULT : frontend;
        require(NAME.matcher(name).matches(), "invalid device name \"" + name + "\"");
        require(isPowerOfTwo(blockSize) && blockSize >= MIN_BLOCK_SIZE && blockSize <= MAX_BLOCK_SIZE,
                "block size " + blockSize + " is not a power of two in 512..4096");
        require(sizeBytes > 0 && sizeBytes % blockSize == 0,
                "size " + sizeBytes + " is not a positive multiple of the block size " + blockSize);
        require(queues >= 1 && queues <= MAX_QUEUES, "queues " + queues + " is not in 1..64");
        require(depth >= 1 && depth <= MAX_DEPTH, "depth " + depth + " is not in 1..4096");
        require(isPowerOfTwo(maxIoBytes) && maxIoBytes >= MIN_MAX_IO_BYTES && maxIoBytes <= MAX_MAX_IO_BYTES,
                "max I/O size " + maxIoBytes + " is not a power of two in 4 KiB..32 MiB");
    }

    /** A device with the default frontend (auto). */
    public DeviceConfig(String name, long sizeBytes, int blockSize, int queues, int depth, int maxIoBytes,
                        boolean recovery, ComponentSpec target, List<ComponentSpec> stages) {
        this(name, sizeBytes, blockSize, queues, depth, maxIoBytes, recovery, target, stages, FrontendConfig.DEFAULT);
    }

    /** A device without stages. */
    public DeviceConfig(String name, long sizeBytes, int blockSize, int queues, int depth, int maxIoBytes,
                        boolean recovery, ComponentSpec target) {
        this(name, sizeBytes, blockSize, queues, depth, maxIoBytes, recovery, target, List.of());
    }

    /** The size in logical blocks. */
    public long blocks() {
        return sizeBytes / blockSize;
    }

    static boolean isPowerOfTwo(long v) {
        return v > 0 && (v & (v - 1)) == 0;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
