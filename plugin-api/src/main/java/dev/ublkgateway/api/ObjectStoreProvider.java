package dev.ublkgateway.api;

import org.pf4j.ExtensionPoint;

import java.io.IOException;

/**
 * Extension point for object stores; configuration works as for {@link StageProvider}.
 *
 * @param <C> the store's configuration record
 */
public interface ObjectStoreProvider<C extends Record> extends ExtensionPoint {
    /** The store type as written in YAML. */
    String name();

    /** One line for {@code plugins list}/{@code plugins info}. */
    String description();

    /** The record the store's YAML options bind to. */
    Class<C> configType();

    /** Opens the store; a missing bucket or bad credentials fail here, with a one-line message. */
    ObjectStore open(C config) throws IOException;
}
