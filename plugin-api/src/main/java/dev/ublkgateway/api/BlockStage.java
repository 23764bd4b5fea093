package dev.ublkgateway.api;

import java.io.IOException;

/** One stage of a device's chain, created once per device from its YAML options. */
public interface BlockStage extends AutoCloseable {
    /** Opens the handler for one queue; called on that queue's thread. */
    StageQueue openQueue(QueueContext queue) throws IOException;

    /**
     * What this stage declares about itself (see {@link Capabilities}). The default, for stages that
     * declare nothing, is {@link Capabilities#UNDECLARED}: not multi-conn safe, changes data, no cache.
     * Since API 1.4.
     */
    default Capabilities capabilities() {
        return Capabilities.UNDECLARED;
    }

    /** Called after the device stopped and every queue closed. */
    @Override
    default void close() throws IOException {}
}
