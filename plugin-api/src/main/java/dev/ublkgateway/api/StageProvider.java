package dev.ublkgateway.api;

import org.pf4j.ExtensionPoint;

import java.io.IOException;

/**
 * Extension point for block stages. A plugin (or the gateway itself) provides one per stage type,
 * annotated with {@code @org.pf4j.Extension}. The gateway binds the stage's YAML options to
 * {@link #configType()}, a record whose components are the option names in kebab-case (annotate them
 * with {@link ConfigOption}); its compact constructor validates values by throwing
 * {@link IllegalArgumentException} with a message starting with the option name.
 *
 * @param <C> the stage's configuration record
 */
public interface StageProvider<C extends Record> extends ExtensionPoint {
    /** The stage type as written in YAML ({@code type: NAME}); unique across all plugins. */
    String name();

    /** One line for {@code plugins list}/{@code plugins info}. */
    String description();

    /** The record the stage's YAML options bind to. */
    Class<C> configType();

    /** Creates the stage for one device. */
    BlockStage create(C config, DeviceDescriptor device) throws IOException;

    /**
     * Null when this stage may come directly before the stage or target named {@code next} in a chain,
     * else a short reason shown by {@code validate}.
     */
    default String cannotPrecede(String next) {
        return null;
    }
}
