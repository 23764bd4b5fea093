package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.RetryPolicy;

import java.io.IOException;
import java.util.Optional;

/**
 * The one place where the volume's store calls are retried: a store that makes no retries of its own
 * gets {@link RetryPolicy#DEFAULT} around each call; a store that retries itself (S3) is used as it is,
 * so that retries never multiply. Nothing above this layer retries a store failure.
 */
final class RetryingStore implements ObjectStore {
    private final ObjectStore store;
    private final RetryPolicy policy;
    private final StoreStats stats;

    private RetryingStore(ObjectStore store, RetryPolicy policy, StoreStats stats) {
        this.store = store;
        this.policy = policy;
        this.stats = stats;
    }

    /** {@code store} with retries: itself when it has a policy of its own (even one attempt), else wrapped in {@code policy}. */
    static ObjectStore over(ObjectStore store, RetryPolicy policy) {
        return over(store, policy, new StoreStats());
    }

    /** As {@link #over(ObjectStore, RetryPolicy)}, counting the retries it makes in {@code stats}. */
    static ObjectStore over(ObjectStore store, RetryPolicy policy, StoreStats stats) {
        return store.retries().equals(RetryPolicy.NONE) && policy.retries() ? new RetryingStore(store, policy, stats) : store;
    }

    @Override
    public Optional<byte[]> get(String key) throws IOException {
        int[] attempts = {0}; // the policy calls back once per attempt: every one after the first is a retry
        return policy.run("get " + key, () -> {
            if (attempts[0]++ > 0) stats.retried(StoreStats.GET);
            return store.get(key);
        });
    }

    @Override
    public void put(String key, byte[] data, int offset, int length) throws IOException {
        int[] attempts = {0};
        policy.run("put " + key, () -> {
            if (attempts[0]++ > 0) stats.retried(StoreStats.PUT);
            store.put(key, data, offset, length);
            return null;
        });
    }

    @Override
    public void delete(String key) throws IOException {
        int[] attempts = {0};
        policy.run("delete " + key, () -> {
            if (attempts[0]++ > 0) stats.retried(StoreStats.DELETE);
            store.delete(key);
            return null;
        });
    }

    @Override
    public java.util.List<String> list(String prefix, boolean recursive) throws IOException {
        return policy.run("list " + prefix, () -> store.list(prefix, recursive));
    }

    @Override
    public RetryPolicy retries() {
        return policy;
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
