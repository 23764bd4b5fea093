package dev.ublkgateway.plugins.chunked;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/** Chunk object keys in tests: a format 2 key without its generation, and the one object of a chunk. */
final class Chunks {
    private Chunks() {}

    /** The keys as chunk keys without generations ({@code chunks/0/1.1f3} is {@code chunks/0/1}); other keys as they are. */
    static Set<String> indexes(Collection<String> keys) {
        Set<String> s = new TreeSet<>();
        for (String k : keys) {
            StoreLayer.Ref r = StoreLayer.ref(k);
            s.add(r == null ? k : StoreLayer.key(r.index()));
        }
        return s;
    }

    /** The only object of chunk {@code index} among {@code keys}. */
    static String key(Collection<String> keys, long index) {
        String found = null;
        for (String k : keys) {
            StoreLayer.Ref r = StoreLayer.ref(k);
            if (r != null && r.index() == index) {
                if (found != null) throw new AssertionError("chunk " + index + " has two objects: " + found + ", " + k);
                found = k;
            }
        }
        if (found == null) throw new AssertionError("chunk " + index + " has no object in " + keys);
        return found;
    }

    static long count(Collection<String> keys) {
        return keys.stream().filter(k -> k.startsWith("chunks/")).count();
    }
}
