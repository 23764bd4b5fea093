package dev.ublkgateway.core.config;

import dev.ublkgateway.api.ConfigOption;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The stage and target types a configuration may use: for each, the type name (the YAML
 * {@code type:} value) and the record class its options bind to, plus a rule about which stage
 * may not come before which stage or target. The option keys are the record's component names in
 * kebab-case ({@code maxOpenFiles} → {@code max-open-files}); see {@link ConfigOption}. Stage and
 * target names are separate: a name may be both.
 *
 * @param targets target type name → config record class (sorted by name)
 * @param stages stage type name → config record class (sorted by name)
 * @param ordering which stage may not come directly before which stage or target; never null
 * @param codecs chunk codec type name → config record class, for options marked {@link dev.ublkgateway.api.Nested}
 * @param stores object store type name → config record class, for options marked {@link dev.ublkgateway.api.Nested}
 * @param codecOrdering which codec may not come anywhere before which other in a codec list
 *     ({@code problem(earlier, later)}); never null
 */
public record ComponentTypes(
        Map<String, Class<?>> targets,
        Map<String, Class<?>> stages,
        OrderingRule ordering,
        Map<String, Class<?>> codecs,
        Map<String, Class<?>> stores,
        OrderingRule codecOrdering) {

    private static final Pattern TYPE_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");

    /**
     * Decides whether a stage may come directly before another stage or the target of a chain.
     */
    @FunctionalInterface
    public interface OrderingRule {

        /** Allows every order. */
        OrderingRule NONE = (stage, next) -> null;

        /**
         * @param stage a stage type
         * @param next the stage type that follows it, or the target type when {@code stage} is the
         *     last stage
         * @return null when allowed, else a short reason, e.g. {@code "it must see every request"}
         */
        String problem(String stage, String next);

        /** Both rules: the first one's problem, else the other's. */
        default OrderingRule and(OrderingRule other) {
            Objects.requireNonNull(other, "other");
            return (stage, next) -> {
                String p = problem(stage, next);
                return p != null ? p : other.problem(stage, next);
            };
        }
    }

    /**
     * @throws IllegalArgumentException for a malformed type name, a class that is not a record or
     *     a misused {@link ConfigOption} (secret or path on a component that is not a String, or
     *     both on one component)
     */
    public ComponentTypes {
        targets = check("target", targets);
        stages = check("stage", stages);
        ordering = ordering == null ? OrderingRule.NONE : ordering;
        codecs = check("codec", codecs == null ? Map.of() : codecs);
        stores = check("store", stores == null ? Map.of() : stores);
        codecOrdering = codecOrdering == null ? OrderingRule.NONE : codecOrdering;
    }

    /** Without a codec ordering rule. */
    public ComponentTypes(Map<String, Class<?>> targets, Map<String, Class<?>> stages, OrderingRule ordering,
                          Map<String, Class<?>> codecs, Map<String, Class<?>> stores) {
        this(targets, stages, ordering, codecs, stores, OrderingRule.NONE);
    }

    /** Targets and stages with an ordering rule; no codecs or stores. */
    public ComponentTypes(Map<String, Class<?>> targets, Map<String, Class<?>> stages, OrderingRule ordering) {
        this(targets, stages, ordering, Map.of(), Map.of());
    }

    /** Targets and stages without an ordering rule. */
    public ComponentTypes(Map<String, Class<?>> targets, Map<String, Class<?>> stages) {
        this(targets, stages, OrderingRule.NONE);
    }

    /** The built-in targets {@code null}, {@code memory} and {@code file}; no stages. */
    public static ComponentTypes builtIn() {
        return new ComponentTypes(Map.of(
                "null", NullTargetConfig.class,
                "memory", MemoryTargetConfig.class,
                "file", FileTargetConfig.class), Map.of());
    }

    /** A copy with one more (or a replaced) target type. */
    public ComponentTypes withTarget(String type, Class<? extends Record> configClass) {
        return new ComponentTypes(with(targets, type, configClass), stages, ordering, codecs, stores, codecOrdering);
    }

    /** A copy with one more (or a replaced) stage type. */
    public ComponentTypes withStage(String type, Class<? extends Record> configClass) {
        return new ComponentTypes(targets, with(stages, type, configClass), ordering, codecs, stores, codecOrdering);
    }

    /** A copy that also applies {@code rule} (after the rules it has). */
    public ComponentTypes withOrderingRule(OrderingRule rule) {
        return new ComponentTypes(targets, stages, ordering.and(rule), codecs, stores, codecOrdering);
    }

    /** A copy that also applies {@code rule} to codec lists: {@code problem(earlier, later)}. */
    public ComponentTypes withCodecOrderingRule(OrderingRule rule) {
        return new ComponentTypes(targets, stages, ordering, codecs, stores, codecOrdering.and(rule));
    }

    /** A copy with one more (or a replaced) chunk codec type. */
    public ComponentTypes withCodec(String type, Class<? extends Record> configClass) {
        return new ComponentTypes(targets, stages, ordering, with(codecs, type, configClass), stores, codecOrdering);
    }

    /** A copy with one more (or a replaced) object store type. */
    public ComponentTypes withStore(String type, Class<? extends Record> configClass) {
        return new ComponentTypes(targets, stages, ordering, codecs, with(stores, type, configClass), codecOrdering);
    }

    /** The codec ({@code kind} "codec") or store ("store") types, for {@link dev.ublkgateway.api.Nested} options. */
    public Map<String, Class<?>> nested(String kind) {
        return switch (kind) {
            case "codec" -> codecs;
            case "store" -> stores;
            default -> throw new IllegalArgumentException("no nested component kind \"" + kind + "\"");
        };
    }

    public Optional<Class<?>> targetClass(String type) {
        return Optional.ofNullable(targets.get(type));
    }

    public Optional<Class<?>> stageClass(String type) {
        return Optional.ofNullable(stages.get(type));
    }

    /** The target type names, sorted. */
    public Set<String> targetNames() {
        return targets.keySet();
    }

    /** The stage type names, sorted. */
    public Set<String> stageNames() {
        return stages.keySet();
    }

    /** A copy of {@code types} with one more (or a replaced) type; checked by the constructor. */
    private static Map<String, Class<?>> with(Map<String, Class<?>> types, String type,
                                              Class<? extends Record> configClass) {
        TreeMap<String, Class<?>> copy = new TreeMap<>(types);
        copy.put(type, configClass);
        return copy;
    }

    private static Map<String, Class<?>> check(String kind, Map<String, Class<?>> types) {
        Objects.requireNonNull(types, kind + " types");
        TreeMap<String, Class<?>> copy = new TreeMap<>();
        types.forEach((name, cls) -> {
            Objects.requireNonNull(name, kind + " type name");
            Objects.requireNonNull(cls, "config class of " + kind + " type " + name);
            if (!TYPE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(kind + " type name \"" + name
                        + "\" is invalid; use lower-case letters, digits, '.', '_' and '-'");
            }
            if (!cls.isRecord()) {
                throw new IllegalArgumentException("config class " + cls.getName()
                        + " of " + kind + " type \"" + name + "\" is not a record");
            }
            for (RecordComponent c : cls.getRecordComponents()) {
                ConfigOption o = c.getAnnotation(ConfigOption.class);
                if (o == null) {
                    continue;
                }
                String where = "component " + c.getName() + " of " + cls.getName();
                if (o.secret() && o.path()) {
                    throw new IllegalArgumentException(where + " is marked both secret and path;"
                            + " a secret is read from ${env:NAME} or file:PATH, so drop path");
                }
                if (o.secret() && c.getType() != String.class) {
                    throw new IllegalArgumentException(where + " is marked secret but is not a String");
                }
                if (o.path() && c.getType() != String.class && c.getType() != Path.class) {
                    throw new IllegalArgumentException(where + " is marked path but is not a String or Path");
                }
            }
            copy.put(name, cls);
        });
        return Collections.unmodifiableMap(copy);
    }
}
