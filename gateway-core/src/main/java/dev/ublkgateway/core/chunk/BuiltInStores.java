package dev.ublkgateway.core.chunk;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ObjectStoreProvider;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.file.Path;

/** The object stores that ship with the gateway. */
public final class BuiltInStores {
    private BuiltInStores() {}

    @Extension
    public static final class Directory implements ObjectStoreProvider<DirectoryStoreConfig> {
        public String name() { return "directory"; }
        public String description() { return "one file per object in a local directory"; }
        public Class<DirectoryStoreConfig> configType() { return DirectoryStoreConfig.class; }
        public ObjectStore open(DirectoryStoreConfig c) throws IOException { return new DirectoryStore(Path.of(c.path()), c.sync()); }
    }

    @Extension
    public static final class Memory implements ObjectStoreProvider<MemoryStoreConfig> {
        public String name() { return "memory"; }
        public String description() { return "objects in the gateway's memory, lost when it exits (for tests)"; }
        public Class<MemoryStoreConfig> configType() { return MemoryStoreConfig.class; }
        public ObjectStore open(MemoryStoreConfig c) { return MemoryStore.named(c.name()); }
    }
}
