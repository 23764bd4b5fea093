package dev.ublkgateway.plugins.chunked.store;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ObjectStoreProvider;
import org.pf4j.Extension;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Object store type {@code memory}. The gateway creates one provider and keeps it while it runs, so
 * the named stores live exactly as long as the running gateway (a volume can be reopened within it).
 */
@Extension
public final class MemoryStoreProvider implements ObjectStoreProvider<MemoryStoreConfig> {
    private final Map<String, Map<String, byte[]>> named = new ConcurrentHashMap<>();

    public String name() { return "memory"; }

    public String description() { return "objects in the gateway's memory, lost when it exits (for tests)"; }

    public Class<MemoryStoreConfig> configType() { return MemoryStoreConfig.class; }

    /** The store of this name shared by this provider's volumes (a new private one when unnamed). */
    public ObjectStore open(MemoryStoreConfig c) {
        return c.name() == null ? new MemoryStore() : new MemoryStore(named.computeIfAbsent(c.name(), n -> new ConcurrentHashMap<>()), c.name(), named);
    }
}
