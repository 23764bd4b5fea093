package dev.ublkgateway.api;

import java.io.IOException;
import java.util.List;
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

    /**
     * The keys that start with {@code prefix}, in no particular order. With {@code recursive} false, only
     * one level: keys with no further {@code /} after the prefix, and each deeper level once, as its name
     * up to and including the next {@code /} (S3's delimiter listing). A store that cannot list throws.
     * Volume operations use it (list, delete, verify); serving a volume does not. (Since API 1.6.)
     */
    default List<String> list(String prefix, boolean recursive) throws IOException {
        throw new IOException("this object store cannot list its objects; it needs a plugin built for API 1.6 or later");
    }

    /**
     * The retries this store makes inside each call. {@link RetryPolicy#NONE} (the default) leaves retrying
     * to the caller; any other policy (even one of a single attempt) tells callers not to retry on top.
     */
    default RetryPolicy retries() {
        return RetryPolicy.NONE;
    }

    /**
     * The store of volume {@code name} beside this one: the same root (directory, bucket and prefix, memory
     * space) with the volume's own part (the last path or prefix component) replaced. Volume clones read
     * their parent through it. A store without such a layout throws, naming why. (Since API 1.8.)
     */
    default ObjectStore sibling(String name) throws IOException {
        throw new IOException("this object store cannot open another volume's store beside it (clones need it); "
                + "it needs a plugin built for API 1.8 or later");
    }

    @Override
    void close() throws IOException;
}
