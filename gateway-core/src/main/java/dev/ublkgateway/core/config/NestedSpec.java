package dev.ublkgateway.core.config;

/**
 * A bound codec or store inside a target's options, as config records marked {@link Nested}
 * declare it. Every spec is a {@link ComponentSpec}; this name stays only for the config records
 * written against it, which may use {@code ComponentSpec} instead.
 */
public sealed interface NestedSpec permits ComponentSpec {

    /** "codec" or "store". */
    String kind();

    /** The type name as written. */
    String type();

    /** The bound config record of the type. */
    Record config();

    /** 1-based line of its mapping. */
    int line();

    /** 1-based column of its mapping. */
    int column();
}
