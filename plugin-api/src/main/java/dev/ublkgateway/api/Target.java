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

    /**
     * What this target declares about itself (see {@link Capabilities}). The default takes data access and
     * cache from {@link #needsData} and {@link #volatileCache} (how targets built for API 1.3 and older say
     * them) and is not multi-conn safe; a target shared coherently by all its queues returns
     * {@code Target.super.capabilities().withMultiConnSafe(true)}. Since API 1.4.
     */
    default Capabilities capabilities() {
        return new Capabilities(false, needsData() ? Capabilities.DataAccess.CHANGES : Capabilities.DataAccess.NONE,
                volatileCache());
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

    /**
     * Describes the range {@code [offset, offset + length)} (within the device) to {@code sink}: which parts
     * are holes or read as zeros, in order from {@code offset}; it may stop early (the first extent
     * is enough). Called on a queue's thread between requests, so it must be quick (local metadata, no
     * remote I/O) and must not allocate per call. Returns 0, or -errno when the target cannot tell.
     * The default says it is all allocated data, which is always true enough: clients then copy every
     * byte. Since API 1.3.
     */
    default int extents(long offset, long length, ExtentSink sink) {
        sink.extent(length, 0);
        return 0;
    }

    /**
     * Changes the size of a live target to {@code newSize} bytes. Growing must leave the new range readable
     * (as zeros) and writable, durably where the target stores data, before this returns: only then does the
     * frontend show the new size. Shrinking ({@code newSize} smaller) is only asked with {@code allowShrink},
     * after the frontend stopped sending requests beyond it; the data there is discarded. Called from a
     * thread of the gateway's while the queues run. Throws with a one-line reason and the fix when the
     * target cannot; the default cannot. Since API 1.7.
     */
    default void resize(long newSize, boolean allowShrink) throws IOException {
        throw new IOException("this target cannot change its size while it runs; it needs a plugin built for API 1.7 "
                + "that supports resizing");
    }

    /** Makes everything written so far durable, then releases the target. */
    @Override
    void close() throws IOException;
}
