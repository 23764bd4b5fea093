package dev.ublkgateway.plugins.chunked.store;

import dev.ublkgateway.api.ConfigOption;

/** Options of object store {@code memory}: objects in this process's heap, lost when it exits (tests). */
public record MemoryStoreConfig(
        @ConfigOption(description = "share the objects with other memory stores of this name in the process")
        String name) {
}
