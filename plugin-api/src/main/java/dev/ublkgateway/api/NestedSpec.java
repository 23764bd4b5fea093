package dev.ublkgateway.api;

/**
 * A bound codec or store inside a target's options, as config records marked {@link Nested} declare
 * it; the target opens it through its {@link ProviderContext}. The gateway supplies the
 * implementation. (Since API 1.4.)
 */
public interface NestedSpec {

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
