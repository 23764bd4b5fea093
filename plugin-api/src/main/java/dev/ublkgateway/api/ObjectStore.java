package dev.ublkgateway.api;

import java.io.IOException;
import java.util.Optional;

/**
 * A flat key-value store of immutable objects (a local directory, memory, S3). Calls block and may be
 * made from many threads at once; implementations bound their own concurrency.
 */
public interface ObjectStore extends AutoCloseable {
    /** The object's bytes, or empty when it does not exist. */
    Optional<byte[]> get(String key) throws IOException;

    /** Stores {@code data} under {@code key}, replacing any previous object; durable on return. */
    void put(String key, byte[] data, int offset, int length) throws IOException;

    /** Deletes the object; deleting a missing object is not an error. */
    void delete(String key) throws IOException;

    @Override
    void close() throws IOException;
}
