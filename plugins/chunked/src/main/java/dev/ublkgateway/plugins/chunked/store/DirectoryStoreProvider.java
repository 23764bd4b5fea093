package dev.ublkgateway.plugins.chunked.store;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ObjectStoreProvider;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.file.Path;

/** Object store type {@code directory}. */
@Extension
public final class DirectoryStoreProvider implements ObjectStoreProvider<DirectoryStoreConfig> {
    public String name() { return "directory"; }

    public String description() { return "one file per object in a local directory"; }

    public Class<DirectoryStoreConfig> configType() { return DirectoryStoreConfig.class; }

    public ObjectStore open(DirectoryStoreConfig c) throws IOException { return new DirectoryStore(Path.of(c.path()), c.sync()); }
}
