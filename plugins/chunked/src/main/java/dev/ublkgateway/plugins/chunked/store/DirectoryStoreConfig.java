package dev.ublkgateway.plugins.chunked.store;

import dev.ublkgateway.api.ConfigOption;

/** Options of object store {@code directory}: one file per object under {@code path}. */
public record DirectoryStoreConfig(
        @ConfigOption(required = true, path = true, description = "directory holding the objects (created if missing)")
        String path,
        @ConfigOption(description = "fsync each object and its directory before a put returns", defaultValue = "true")
        Boolean sync) {
    public DirectoryStoreConfig {
        if (path == null || path.isBlank()) throw new IllegalArgumentException("path is empty; use a directory path");
        if (sync == null) sync = true;
    }
}
