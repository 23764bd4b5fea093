package dev.ublkgateway.core.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
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
 * Binds the options of a {@code target:} mapping to the type's config record. Keys are the
 * record components in kebab-case. Strings, booleans, integers, floating point numbers,
 * {@link Size}, {@link Path} and enums (by name, case-insensitive, '-' for '_') are converted here
 * with exact positions; other component types (lists, maps, nested records) are converted by
 * Jackson and reported at the option's position.
 */
final class TargetBinder {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final Values values;

    TargetBinder(Values values) {
        this.values = values;
    }

    Object bind(String type, Class<?> configClass, YamlNode.Mapping target, String device) {
        RecordComponent[] components = configClass.getRecordComponents();
        Map<String, RecordComponent> byKey = new LinkedHashMap<>();
        for (RecordComponent c : components) {
            byKey.put(Names.kebab(c.getName()), c);
        }
        for (YamlNode.Entry e : target.entries().values()) {
            if (e.key().equals("type") || byKey.containsKey(e.key())) {
                continue;
            }
            String where = "unknown option \"" + e.key() + "\" of target type \"" + type + "\" in " + device;
            if (byKey.isEmpty()) {
                throw values.at(e, where + "; remove it (target type \"" + type + "\" takes no options)");
            }
            throw values.at(e, where + "; " + Names.suggestion(e.key(), byKey.keySet(), "remove it"));
        }

        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            String key = Names.kebab(c.getName());
            types[i] = c.getType();
            TargetOption option = c.getAnnotation(TargetOption.class);
            YamlNode.Entry e = target.entry(key);
            if (e == null) {
                if (option != null && option.required()) {
                    throw values.at(target, "target type \"" + type + "\" in " + device
                            + " needs option \"" + key + "\"; add " + key + ": <value> under target:");
                }
                args[i] = absent(c.getType());
            } else {
                args[i] = convert(key, c, option, e.value());
            }
        }
        return construct(configClass, types, args, type, target);
    }

    private Object convert(String key, RecordComponent c, TargetOption option, YamlNode node) {
        Class<?> t = c.getType();
        if (t == String.class) {
            return option != null && option.path()
                    ? values.path(key, node).toString()
                    : values.string(key, node, "use a string");
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

    private Object construct(Class<?> cls, Class<?>[] types, Object[] args, String type,
                             YamlNode.Mapping target) {
        Constructor<?> ctor;
        try {
            ctor = cls.getDeclaredConstructor(types);
            ctor.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot use the canonical constructor of " + cls.getName(), e);
        }
        try {
            return ctor.newInstance(args);
        } catch (InvocationTargetException ite) {
            Throwable cause = ite.getCause();
            if (cause instanceof IllegalArgumentException iae && iae.getMessage() != null) {
                String msg = ConfigException.oneLine(iae.getMessage());
                YamlNode at = target;
                for (YamlNode.Entry e : target.entries().values()) {
                    if (!e.key().equals("type") && startsWithKey(msg, e.key())) {
                        at = e.value();
                        break;
                    }
                }
                if (!msg.contains("; ")) {
                    msg += "; check the options of target type \"" + type + "\"";
                }
                throw values.at(at, msg);
            }
            throw values.at(target, "target type \"" + type + "\" rejected its options ("
                    + cause.getClass().getSimpleName()
                    + (cause.getMessage() != null ? ": " + YamlReader.firstLine(cause.getMessage()) : "")
                    + "); check the options of target type \"" + type + "\"");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + cls.getName(), e);
        }
    }

    private static boolean startsWithKey(String message, String key) {
        if (!message.startsWith(key) || message.length() == key.length()) {
            return false;
        }
        char next = message.charAt(key.length());
        return next == ' ' || next == ':';
    }
}
