package dev.ublkgateway.core.config;

import dev.ublkgateway.api.NestedSpec;

import dev.ublkgateway.api.Nested;

import dev.ublkgateway.api.Size;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ublkgateway.api.ConfigOption;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Binds the options of a stage's or target's mapping to the type's config record. Keys are the
 * record components in kebab-case. Strings, booleans, integers, floating point numbers,
 * {@link Size}, {@link Path} and enums (by name, case-insensitive, '-' for '_') are converted here
 * with exact positions; other component types (lists, maps, nested records) are converted by
 * Jackson and reported at the option's position. String and path options may use
 * {@code ${env:NAME}}; secret options ({@link ConfigOption#secret()}) must. Every problem is
 * recorded in {@link Values}; the record is only constructed when its options had none.
 */
final class ComponentBinder {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private static final String REDACTED = "***";

    private final Values values;
    private final String kind;
    private final String addUnder;
    private final ComponentTypes types;

    /**
     * @param kind {@code "target"}, {@code "stage"}, {@code "codec"} or {@code "store"}: for messages
     *     and the specs
     * @param addUnder where a missing option goes, e.g. {@code "under target:"}
     */
    ComponentBinder(Values values, String kind, String addUnder) {
        this(values, kind, addUnder, null);
    }

    /** @param types where {@link Nested} options find their codec and store types (null: none) */
    ComponentBinder(Values values, String kind, String addUnder, ComponentTypes types) {
        this.values = values;
        this.kind = kind;
        this.addUnder = addUnder;
        this.types = types;
    }

    /**
     * The spec of the component at {@code line}:{@code column}, bound to its config record, or null
     * when a problem was recorded.
     */
    ComponentSpec spec(String type, Class<?> configClass, YamlNode.Mapping mapping, String device, int line, int column) {
        Record config = bind(type, configClass, mapping, device);
        return config == null ? null : new ComponentSpec(kind, type, mapping.options(), line, column, config);
    }

    /** The bound record, or null when a problem was recorded. */
    private Record bind(String type, Class<?> configClass, YamlNode.Mapping mapping, String device) {
        int before = values.problemCount();
        String typeName = kind + " type \"" + type + "\"";
        RecordComponent[] components = configClass.getRecordComponents();
        Map<String, RecordComponent> byKey = new LinkedHashMap<>();
        for (RecordComponent c : components) {
            byKey.put(Names.kebab(c.getName()), c);
        }
        for (YamlNode.Entry e : mapping.entries().values()) {
            if (e.key().equals("type") || byKey.containsKey(e.key())) {
                continue;
            }
            String where = "unknown option \"" + e.key() + "\" of " + typeName + " in " + device;
            if (byKey.isEmpty()) {
                values.report(values.at(e, where + "; remove it (" + typeName + " takes no options)"));
            } else {
                values.report(values.at(e, where + "; " + Names.suggestion(e.key(), byKey.keySet(), "remove it")));
            }
        }

        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        Map<String, String> secrets = new LinkedHashMap<>();
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            String key = Names.kebab(c.getName());
            types[i] = c.getType();
            ConfigOption option = c.getAnnotation(ConfigOption.class);
            YamlNode.Entry e = mapping.entry(key);
            if (e == null) {
                if (option != null && option.required()) {
                    values.report(values.at(mapping, typeName + " in " + device
                            + " needs option \"" + key + "\"; add " + key + ": <value> " + addUnder));
                }
                args[i] = absent(c.getType());
            } else if (c.isAnnotationPresent(Nested.class)) {
                args[i] = nested(key, c, e.value(), device);
            } else if (option != null && option.secret()) {
                args[i] = values.attempt(() -> values.secret(key, e.value()));
                if (args[i] != null) {
                    secrets.put(c.getName(), (String) args[i]);
                }
            } else {
                args[i] = values.attempt(() -> convert(key, c, option, e.value()));
            }
        }
        if (values.problemCount() > before) {
            return null;
        }
        for (Object a : args) {
            // the record may check its secret: it is built where the gateway runs, with the secret
            if (a == Values.SECRET_NOT_HERE) return new SecretNotHere(type);
        }
        return values.attempt(() -> construct(configClass, types, args, typeName, mapping, secrets));
    }

    /** A {@link Nested} option: one mapping with type:, or a list of them; null when a problem was recorded. */
    private Object nested(String key, RecordComponent c, YamlNode node, String device) {
        String nestedKind = c.getAnnotation(Nested.class).value();
        if (c.getType() == List.class) {
            if (!(node instanceof YamlNode.Sequence seq)) {
                values.report(values.typeError(key, node, "a list",
                        "write " + key + ": as a list of mappings, each starting with \"- type:\""));
                return null;
            }
            List<ComponentSpec> specs = new ArrayList<>();
            for (YamlNode item : seq.items()) {
                specs.add(values.attempt(() -> nestedOne(key, nestedKind, item, device)));
            }
            if (nestedKind.equals("codec") && types != null) checkCodecOrder(key, seq, specs);
            return specs.contains(null) ? null : List.copyOf(specs);
        }
        return values.attempt(() -> nestedOne(key, nestedKind, node, device));
    }

    /** Reports, at the later codec, each pair of codecs the ordering rule refuses (bound ones only). */
    private void checkCodecOrder(String key, YamlNode.Sequence seq, List<ComponentSpec> specs) {
        for (int j = 1; j < specs.size(); j++) {
            if (specs.get(j) == null) continue;
            for (int i = 0; i < j; i++) {
                if (specs.get(i) == null) continue;
                String a = specs.get(i).type(), b = specs.get(j).type();
                String problem = types.codecOrdering().problem(a, b);
                if (problem != null) {
                    values.report(values.at(seq.items().get(j), "codec \"" + b + "\" cannot come after \"" + a
                            + "\" in " + key + " (" + ConfigException.oneLine(problem) + "); reorder the " + key));
                    break;
                }
            }
        }
    }

    private ComponentSpec nestedOne(String key, String nestedKind, YamlNode node, String device) {
        if (!(node instanceof YamlNode.Mapping m)) {
            throw values.typeError(key, node, "a mapping", "write it as a mapping with type: and the "
                    + nestedKind + "'s options");
        }
        Map<String, Class<?>> known = types == null ? Map.of() : types.nested(nestedKind);
        YamlNode.Entry typeEntry = m.entry("type");
        if (typeEntry == null) {
            throw values.at(m, "a " + nestedKind + " under " + key + " has no \"type\"; add type: <type>, one of "
                    + (known.isEmpty() ? "(none loaded)" : String.join(", ", known.keySet())));
        }
        String type = values.string("type", typeEntry.value(), "use a " + nestedKind + " type name");
        Class<?> cls = known.get(type);
        if (cls == null) {
            String near = Names.closest(type, known.keySet());
            throw values.at(typeEntry.value(), "unknown " + nestedKind + " type " + Size.quote(type) + "; "
                    + (known.isEmpty() ? "no " + nestedKind + " types are available (is its plugin installed?)"
                    : near != null ? "did you mean \"" + near + "\"? (known: " + String.join(", ", known.keySet()) + ")"
                    : "known: " + String.join(", ", known.keySet())));
        }
        return new ComponentBinder(values, nestedKind, "to the " + nestedKind, types)
                .spec(type, cls, m, device, m.line(), m.column());
    }

    private Object convert(String key, RecordComponent c, ConfigOption option, YamlNode node) {
        Class<?> t = c.getType();
        if (t == String.class) {
            return option != null && option.path()
                    ? values.path(key, node).toString()
                    : values.option(key, node, "use a string");
        }
        if (t == Path.class) {
            return values.path(key, node);
        }
        if (t == boolean.class || t == Boolean.class) {
            return values.bool(key, node);
        }
        if (t == int.class || t == Integer.class) {
            return (int) values.integer(key, node, Integer.MIN_VALUE, Integer.MAX_VALUE);
        }
        if (t == long.class || t == Long.class) {
            return values.integer(key, node, Long.MIN_VALUE, Long.MAX_VALUE);
        }
        if (t == short.class || t == Short.class) {
            return (short) values.integer(key, node, Short.MIN_VALUE, Short.MAX_VALUE);
        }
        if (t == byte.class || t == Byte.class) {
            return (byte) values.integer(key, node, Byte.MIN_VALUE, Byte.MAX_VALUE);
        }
        if (t == double.class || t == Double.class) {
            return values.decimal(key, node);
        }
        if (t == float.class || t == Float.class) {
            return (float) values.decimal(key, node);
        }
        if (t == Size.class) {
            return values.size(key, node);
        }
        if (t.isEnum()) {
            return enumValue(key, t, node);
        }
        JavaType javaType = MAPPER.getTypeFactory().constructType(c.getGenericType());
        try {
            return MAPPER.convertValue(node.toJson(), javaType);
        } catch (IllegalArgumentException e) {
            String why = e.getCause() instanceof JsonMappingException jme
                    ? YamlReader.firstLine(jme.getOriginalMessage())
                    : YamlReader.firstLine(e.getMessage());
            throw values.at(node, key + " is not a valid " + javaType.getRawClass().getSimpleName()
                    + " (" + why + "); check the value of " + key);
        }
    }

    private Object enumValue(String key, Class<?> enumClass, YamlNode node) {
        List<String> names = new ArrayList<>();
        for (Object constant : enumClass.getEnumConstants()) {
            names.add(((Enum<?>) constant).name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        String fix = "use one of " + String.join(", ", names);
        String text = values.string(key, node, fix);
        String wanted = text.toLowerCase(Locale.ROOT).replace('_', '-');
        int i = names.indexOf(wanted);
        if (i < 0) {
            String near = Names.closest(text, names);
            throw values.at(node, key + " " + node.describe() + " is not supported; "
                    + (near != null ? "did you mean \"" + near + "\"? (" + fix + ")" : fix));
        }
        return enumClass.getEnumConstants()[i];
    }

    private static Object absent(Class<?> t) {
        if (!t.isPrimitive()) {
            return null;
        }
        if (t == boolean.class) {
            return false;
        }
        if (t == char.class) {
            return '\0';
        }
        if (t == double.class) {
            return 0.0d;
        }
        if (t == float.class) {
            return 0.0f;
        }
        if (t == long.class) {
            return 0L;
        }
        if (t == int.class) {
            return 0;
        }
        if (t == short.class) {
            return (short) 0;
        }
        return (byte) 0;
    }

    private Record construct(Class<?> cls, Class<?>[] types, Object[] args, String typeName,
                             YamlNode.Mapping mapping, Map<String, String> secrets) {
        Constructor<?> ctor;
        try {
            ctor = cls.getDeclaredConstructor(types);
            ctor.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot use the canonical constructor of " + cls.getName(), e);
        }
        Record config;
        try {
            config = (Record) ctor.newInstance(args);
        } catch (InvocationTargetException ite) {
            Throwable cause = ite.getCause();
            if (cause instanceof IllegalArgumentException iae && iae.getMessage() != null) {
                String msg = redact(ConfigException.oneLine(iae.getMessage()), secrets);
                YamlNode at = mapping;
                for (YamlNode.Entry e : mapping.entries().values()) {
                    if (!e.key().equals("type") && startsWithKey(msg, e.key())) {
                        at = e.value();
                        break;
                    }
                }
                if (!msg.contains("; ")) {
                    msg += "; check the options of " + typeName;
                }
                throw values.at(at, msg);
            }
            throw values.at(mapping, typeName + " rejected its options ("
                    + cause.getClass().getSimpleName()
                    + (cause.getMessage() != null ? ": " + redact(YamlReader.firstLine(cause.getMessage()), secrets) : "")
                    + "); check the options of " + typeName);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + cls.getName(), e);
        }
        checkToString(config, typeName, mapping, secrets);
        return config;
    }

    /**
     * Refuses a record whose {@code toString()} shows a secret the way the generated record
     * {@code toString()} does ({@code name=value}): it would leak into logs.
     */
    private void checkToString(Record config, String typeName, YamlNode.Mapping mapping, Map<String, String> secrets) {
        if (secrets.isEmpty()) {
            return;
        }
        String text;
        try {
            text = String.valueOf(config);
        } catch (RuntimeException e) {
            return;
        }
        for (Map.Entry<String, String> s : secrets.entrySet()) {
            if (text.contains(s.getKey() + "=" + s.getValue())) {
                String key = Names.kebab(s.getKey());
                throw values.at(mapping.entry(key).value(), "the config record " + config.getClass().getName()
                        + " of " + typeName + " shows secret option \"" + key + "\" in its toString();"
                        + " the record must override toString() to hide it (see ConfigOption.secret)");
            }
        }
    }

    /** The message with every secret value replaced by {@code ***}. */
    private static String redact(String message, Map<String, String> secrets) {
        String m = message;
        for (String secret : secrets.values()) {
            if (!secret.isEmpty()) {
                m = m.replace(secret, REDACTED);
            }
        }
        return m;
    }

    private static boolean startsWithKey(String message, String key) {
        if (!message.startsWith(key) || message.length() == key.length()) {
            return false;
        }
        char next = message.charAt(key.length());
        return next == ' ' || next == ':';
    }
}
