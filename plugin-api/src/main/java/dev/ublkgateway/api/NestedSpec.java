package dev.ublkgateway.api;

import java.util.Objects;

/**
 * A bound codec or store inside a target's options (see {@link Nested}).
 *
 * @param kind   "codec" or "store"
 * @param type   the type name as written
 * @param config the bound config record of the type
 * @param line   1-based line of its mapping
 * @param column 1-based column of its mapping
 */
public record NestedSpec(String kind, String type, Record config, int line, int column) {
    public NestedSpec {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(config, "config");
    }

    @Override
    public String toString() {
        return type + " " + config; // config records hide their secrets in toString()
    }
}
