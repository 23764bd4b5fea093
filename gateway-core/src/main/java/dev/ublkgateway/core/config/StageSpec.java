package dev.ublkgateway.core.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * One entry of a device's {@code stages:} list: its type, its options as written (every key but
 * {@code type}), the 1-based position of the stage's mapping, and, once bound, the config record
 * of the type ({@code null} before binding). {@link ConfigLoader} always returns bound specs.
 */
public record StageSpec(String type, ObjectNode options, int line, int column, Object config) {

    public StageSpec {
        Objects.requireNonNull(type, "type");
        options = Objects.requireNonNull(options, "options").deepCopy();
    }

    /** An unbound spec. */
    public StageSpec(String type, ObjectNode options, int line, int column) {
        this(type, options, line, column, null);
    }

    /** A copy of the options (the spec itself stays unchanged). */
    @Override
    public ObjectNode options() {
        return options.deepCopy();
    }

    public boolean isBound() {
        return config != null;
    }

    public StageSpec withConfig(Object config) {
        return new StageSpec(type, options, line, column, Objects.requireNonNull(config, "config"));
    }

    /**
     * The bound config as the given class.
     *
     * @throws IllegalStateException if unbound or bound to another class
     */
    public <T> T config(Class<T> configClass) {
        if (config == null) {
            throw new IllegalStateException("stage \"" + type + "\" is not bound to its config");
        }
        if (!configClass.isInstance(config)) {
            throw new IllegalStateException("stage \"" + type + "\" is configured by "
                    + config.getClass().getName() + ", not " + configClass.getName());
        }
        return configClass.cast(config);
    }
}
