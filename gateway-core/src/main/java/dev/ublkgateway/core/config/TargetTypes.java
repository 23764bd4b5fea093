package dev.ublkgateway.core.config;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The target types a configuration may use: type name (the YAML {@code type:} value) to the
 * record class its options bind to. The option keys are the record's component names in
 * kebab-case ({@code maxOpenFiles} → {@code max-open-files}); see {@link TargetOption}.
 */
public record TargetTypes(Map<String, Class<?>> types) {

    private static final Pattern TYPE_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");

    /** @throws IllegalArgumentException for a malformed type name or a class that is not a record */
    public TargetTypes {
        TreeMap<String, Class<?>> copy = new TreeMap<>();
        types.forEach((name, cls) -> {
            Objects.requireNonNull(name, "type name");
            Objects.requireNonNull(cls, "config class of " + name);
            if (!TYPE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("target type name \"" + name
                        + "\" is invalid; use lower-case letters, digits, '.', '_' and '-'");
            }
            if (!cls.isRecord()) {
                throw new IllegalArgumentException("config class " + cls.getName()
                        + " of target type \"" + name + "\" is not a record");
            }
            copy.put(name, cls);
        });
        types = Collections.unmodifiableMap(copy);
    }

    /** {@code null}, {@code memory} and {@code file}. */
    public static TargetTypes builtIn() {
        return new TargetTypes(Map.of(
                "null", NullTargetConfig.class,
                "memory", MemoryTargetConfig.class,
                "file", FileTargetConfig.class));
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
}
