package dev.ublkgateway.core.config;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The target types a configuration may use, without stages.
 *
 * @deprecated use {@link ComponentTypes}, which also holds the stage types; this is
 *     {@code ComponentTypes} with targets only ({@link #toComponentTypes()}).
 */
@Deprecated
public record TargetTypes(Map<String, Class<?>> types) {

    /** @throws IllegalArgumentException as {@link ComponentTypes#ComponentTypes} */
    public TargetTypes {
        types = new ComponentTypes(types, Map.of()).targets();
    }

    /** {@code null}, {@code memory} and {@code file}. */
    public static TargetTypes builtIn() {
        return new TargetTypes(ComponentTypes.builtIn().targets());
    }

    /** A copy with one more (or a replaced) type. */
    public TargetTypes with(String type, Class<? extends Record> configClass) {
        TreeMap<String, Class<?>> copy = new TreeMap<>(types);
        copy.put(type, configClass);
        return new TargetTypes(copy);
    }

    public Optional<Class<?>> configClass(String type) {
        return Optional.ofNullable(types.get(type));
    }

    /** The type names, sorted. */
    public Set<String> names() {
        return types.keySet();
    }

    /** These targets, no stages. */
    public ComponentTypes toComponentTypes() {
        return new ComponentTypes(types, Map.of());
    }
}
