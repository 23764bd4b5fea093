package dev.ublkgateway.plugins.chunked.store;

import dev.ublkgateway.api.ObjectStore;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Named memory stores live as long as their provider, which the running gateway keeps: no process-wide state. */
class MemoryStoreProviderTest {
    static void put(ObjectStore s, String key) throws Exception {
        s.put(key, new byte[] {1}, 0, 1);
    }

    @Test
    void storesOfOneNameShareTheirObjectsWithinAProvider() throws Exception {
        MemoryStoreProvider p = new MemoryStoreProvider();
        put(p.open(new MemoryStoreConfig("a")), "x");
        assertTrue(p.open(new MemoryStoreConfig("a")).get("x").isPresent(), "reopened by name");
        assertTrue(p.open(new MemoryStoreConfig("b")).get("x").isEmpty(), "another name");
        assertTrue(p.open(new MemoryStoreConfig(null)).get("x").isEmpty(), "unnamed: private");
    }

    @Test
    void anotherProviderHasItsOwnStores() throws Exception {
        put(new MemoryStoreProvider().open(new MemoryStoreConfig("a")), "x");
        assertTrue(new MemoryStoreProvider().open(new MemoryStoreConfig("a")).get("x").isEmpty());
    }
}
