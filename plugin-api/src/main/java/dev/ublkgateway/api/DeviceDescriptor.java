package dev.ublkgateway.api;

/**
 * The device a stage or target is created for.
 *
 * @param name       the device name from the YAML file
 * @param sizeBytes  device size in bytes
 * @param blockSize  logical block size in bytes (512..4096)
 * @param queues     number of queues; each opens its own {@link StageQueue}/{@link TargetQueue}
 * @param depth      most requests in flight per queue
 * @param maxIoBytes largest single request in bytes
 */
public record DeviceDescriptor(String name, long sizeBytes, int blockSize, int queues, int depth, int maxIoBytes) {
}
