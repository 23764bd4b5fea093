package dev.ublkgateway.plugins.chunked.store;

import dev.ublkgateway.api.ObjectStore;

import java.util.Arrays;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Objects in a map; stores opened on the same map (see {@link MemoryStoreProvider}) share their objects. */
public final class MemoryStore implements ObjectStore {
    private final Map<String, byte[]> objects;
    /** Request counters, for tests and benchmarks. */
    public final AtomicLong gets = new AtomicLong(), puts = new AtomicLong(), deletes = new AtomicLong();

    public MemoryStore() {
        this(new ConcurrentHashMap<>(), null, null);
    }

    /** A named store's name and the provider's stores by name (for {@link #sibling}), or null. */
    private final String name;
    private final Map<String, Map<String, byte[]>> named;

    /** A store over {@code objects}, shared with every other store over the same map. */
    MemoryStore(Map<String, byte[]> objects) {
        this(objects, null, null);
    }

    MemoryStore(Map<String, byte[]> objects, String name, Map<String, Map<String, byte[]>> named) {
        this.objects = objects;
        this.name = name;
        this.named = named;
    }

    /** Store {@code a/b/NAME} beside store {@code a/b/VOL} (or {@code NAME} beside {@code VOL}). */
    @Override
    public ObjectStore sibling(String volume) throws IOException {
        if (named == null) throw new IOException("an unnamed memory store has no other volume beside it; give the stores names");
        String n = name.substring(0, name.lastIndexOf('/') + 1) + volume;
        Map<String, byte[]> o = named.get(n);
        if (o == null) throw new IOException("no memory store " + n + " (volume " + volume + ") in this process");
        return new MemoryStore(o, n, named);
    }

    public Optional<byte[]> get(String key) {
        gets.incrementAndGet();
        byte[] b = objects.get(key);
        return b == null ? Optional.empty() : Optional.of(b.clone());
    }

    public void put(String key, byte[] data, int offset, int length) {
        puts.incrementAndGet();
        objects.put(key, Arrays.copyOfRange(data, offset, offset + length));
    }

    public void delete(String key) {
        deletes.incrementAndGet();
        objects.remove(key);
    }

    @Override
    public java.util.List<String> list(String prefix, boolean recursive) {
        java.util.Set<String> keys = new java.util.TreeSet<>();
        for (String k : objects.keySet()) {
            if (!k.startsWith(prefix)) continue;
            int slash = recursive ? -1 : k.indexOf('/', prefix.length());
            keys.add(slash < 0 ? k : k.substring(0, slash + 1));
        }
        return java.util.List.copyOf(keys);
    }

    /** The stored keys (tests). */
    public java.util.Set<String> keys() {
        return java.util.Set.copyOf(objects.keySet());
    }

    /** Replaces an object's bytes without counting (tests that tamper with objects). */
    public void poke(String key, byte[] data) {
        objects.put(key, data.clone());
    }

    public void close() {}
}
