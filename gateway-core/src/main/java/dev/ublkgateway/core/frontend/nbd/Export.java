package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.Target;

/**
 * One device as an NBD export.
 *
 * @param name       export name (the device name)
 * @param target     the device's chain (stages, then target), opened once per connection like a queue
 * @param sizeBytes  export size
 * @param blockSize  minimum block size: requests must be aligned to it (clients such as qemu then do
 *                   read-modify-write for unaligned I/O themselves, so the chain sees what ublk gives it)
 * @param maxIoBytes largest READ/WRITE
 * @param depth      requests in flight per connection
 * @param queues     the device's queue count; connection n uses queue id n % queues
 * @param multiConn  whether a FLUSH on one connection covers writes completed on every connection
 * @param readOnly   whether the export refuses writes
 */
public record Export(String name, Target target, long sizeBytes, int blockSize, int maxIoBytes, int depth,
                     int queues, boolean multiConn, boolean readOnly) {

    int transmissionFlags() {
        int f = Nbd.TF_HAS_FLAGS | Nbd.TF_SEND_FLUSH | Nbd.TF_SEND_FUA | Nbd.TF_SEND_DF;
        if (target.supportsDiscard()) f |= Nbd.TF_SEND_TRIM | Nbd.TF_SEND_WRITE_ZEROES;
        if (multiConn) f |= Nbd.TF_CAN_MULTI_CONN;
        if (readOnly) f |= Nbd.TF_READ_ONLY;
        return f;
    }

    int preferredBlockSize() {
        return Math.max(4096, blockSize);
    }
}
