package dev.ublkgateway.core.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ublkgateway.api.Nested;
import dev.ublkgateway.api.NestedSpec;
import java.util.Objects;

/**
 * One component of a device as written in the configuration: a {@code stage} of its
 * {@code stages:} list, its {@code target:}, or a {@code codec} or {@code store} inside a target's
 * options (see {@link Nested}). It holds the type name, the options as written (every key but
 * {@code type}), the 1-based position of the component's mapping and, once bound, the config
 * record of the type ({@code null} before binding). {@link ConfigLoader} always returns bound
 * specs.
 *
 * @param kind {@code "stage"}, {@code "target"}, {@code "codec"} or {@code "store"}
 */
public record ComponentSpec(String kind, String type, ObjectNode options, int line, int column, Record config)
        implements NestedSpec {

    public static final String STAGE = "stage";
    public static final String TARGET = "target";

    public ComponentSpec {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(type, "type");
        options = Objects.requireNonNull(options, "options").deepCopy();
    }

    /** An unbound spec. */
    public ComponentSpec(String kind, String type, ObjectNode options, int line, int column) {
        this(kind, type, options, line, column, null);
    }

    /** A copy of the options (the spec itself stays unchanged). */
    @Override
    public ObjectNode options() {
        return options.deepCopy();
    }

    public boolean isBound() {
        return config != null;
    }

    public ComponentSpec withConfig(Record config) {
        return new ComponentSpec(kind, type, options, line, column, Objects.requireNonNull(config, "config"));
    }

    /**
     * The bound config as the given class.
     *
     * @throws IllegalStateException if unbound or bound to another class
     */
    public <T> T config(Class<T> configClass) {
        if (config == null) {
            throw new IllegalStateException(kind + " \"" + type + "\" is not bound to its config");
        }
        if (!configClass.isInstance(config)) {
            throw new IllegalStateException(kind + " \"" + type + "\" is configured by "
                    + config.getClass().getName() + ", not " + configClass.getName());
        }
        return configClass.cast(config);
    }
}
