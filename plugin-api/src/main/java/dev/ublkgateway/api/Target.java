package dev.ublkgateway.api;

import java.io.IOException;

/**
 * The end of a device's chain: where data is stored. A target is opened once per device and then
 * serves each queue through its own {@link TargetQueue}.
 */
public interface Target extends AutoCloseable {
    /** Opens the handler for one queue; called on that queue's thread. */
    TargetQueue openQueue(QueueContext queue) throws IOException;

    /**
     * True when completed writes may sit in a volatile cache until FLUSH; the device then advertises
     * a write cache and FUA so the kernel sends flushes.
     */
    default boolean volatileCache() {
        return false;
    }

    /** True when DISCARD and WRITE_ZEROES are supported. */
    default boolean supportsDiscard() {
        return true;
    }

    /**
     * False when the target never looks at the data of a write nor fills the buffer of a read (a null
     * device). Without stages before it the frontend then moves no data at all, as the kernel's null_blk
     * does: reads leave the reader's buffer as it was. Since API 1.2.
     */
    default boolean needsData() {
        return true;
    }

    /** Makes everything written so far durable, then releases the target. */
    @Override
    void close() throws IOException;
}
