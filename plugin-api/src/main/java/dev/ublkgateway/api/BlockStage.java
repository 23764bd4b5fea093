package dev.ublkgateway.api;

import java.io.IOException;

/** One stage of a device's chain, created once per device from its YAML options. */
public interface BlockStage extends AutoCloseable {
    /** Opens the handler for one queue; called on that queue's thread. */
    StageQueue openQueue(QueueContext queue) throws IOException;

    /** Called after the device stopped and every queue closed. */
    @Override
    default void close() throws IOException {}
}
