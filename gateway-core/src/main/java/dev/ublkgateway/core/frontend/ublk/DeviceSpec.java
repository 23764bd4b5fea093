package dev.ublkgateway.core.frontend.ublk;

/**
 * The shape of a ublk device: everything ADD_DEV and SET_PARAMS need, how long its queue threads
 * spin for the next request before they sleep ({@code pollMicros}, 0 for not at all), and whether it may
 * run zero copy where its chain and kernel allow ({@code zeroCopy}), and whether its queues take requests
 * and give answers in batches where the kernel allows ({@code batchIo}, UBLK_F_BATCH_IO).
 */
public record DeviceSpec(String name, long sizeBytes, int blockSize, int queues, int depth, int maxIoBytes,
                         boolean recovery, int pollMicros, boolean zeroCopy, boolean batchIo) {
    /** Zero copy where possible, one command per request. */
    public DeviceSpec(String name, long sizeBytes, int blockSize, int queues, int depth, int maxIoBytes,
                      boolean recovery, int pollMicros) {
        this(name, sizeBytes, blockSize, queues, depth, maxIoBytes, recovery, pollMicros, true, false);
    }

    /** One command per request. */
    public DeviceSpec(String name, long sizeBytes, int blockSize, int queues, int depth, int maxIoBytes,
                      boolean recovery, int pollMicros, boolean zeroCopy) {
        this(name, sizeBytes, blockSize, queues, depth, maxIoBytes, recovery, pollMicros, zeroCopy, false);
    }

    public DeviceSpec {
        if (queues < 1 || queues > Uapi.MAX_NR_QUEUES) throw new IllegalArgumentException("queues out of range");
        if (depth < 1 || depth > Uapi.MAX_QUEUE_DEPTH) throw new IllegalArgumentException("depth out of range");
        if (Integer.bitCount(blockSize) != 1 || blockSize < 512 || blockSize > 4096) {
            throw new IllegalArgumentException("block size must be a power of two in 512..4096");
        }
        if (sizeBytes <= 0 || sizeBytes % blockSize != 0) throw new IllegalArgumentException("bad size");
        if (pollMicros < 0) throw new IllegalArgumentException("negative poll time");
    }
}
