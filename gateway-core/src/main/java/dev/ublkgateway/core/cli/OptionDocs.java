package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.ObjectStoreProvider;
import dev.ublkgateway.api.StageProvider;
import dev.ublkgateway.api.TargetProvider;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/** Describes a component's YAML options from its config record, for `plugins info`. */
final class OptionDocs {
    private OptionDocs() {}

    static String description(Object provider) {
        return switch (provider) {
            case StageProvider<?> s -> s.description();
            case TargetProvider<?> t -> t.description();
            case ChunkCodecProvider<?> c -> c.description();
            case ObjectStoreProvider<?> o -> o.description();
            default -> "";
        };
    }

    static Class<?> configType(Object provider) {
        return switch (provider) {
            case StageProvider<?> s -> s.configType();
            case TargetProvider<?> t -> t.configType();
            case ChunkCodecProvider<?> c -> c.configType();
            case ObjectStoreProvider<?> o -> o.configType();
            default -> null;
        };
    }

    /** One line per option: "key (type, required|default X): description". */
    static List<String> options(Object provider) {
        return recordOptions(configType(provider));
    }

    /** One line per component of a config record, as {@link #options(Object)} gives them. */
    static List<String> recordOptions(Class<?> type) {
        List<String> out = new ArrayList<>();
        if (type == null || !type.isRecord() || type.getRecordComponents().length == 0) {
            out.add("(no options)");
            return out;
        }
        for (RecordComponent rc : type.getRecordComponents()) {
            StringBuilder sb = new StringBuilder(kebab(rc.getName())).append(" (").append(typeName(rc.getType()));
            OptionMeta meta = OptionMeta.of(rc);
            if (meta.required()) sb.append(", required");
            if (!meta.defaultValue().isEmpty()) sb.append(", default ").append(meta.defaultValue());
            if (meta.secret()) sb.append(", secret: ${env:NAME} or file:PATH");
            sb.append(")");
            if (!meta.description().isEmpty()) sb.append(": ").append(meta.description());
            out.add(sb.toString());
        }
        return out;
    }

    private static String typeName(Class<?> c) {
        if (c == String.class) return "string";
        if (c == boolean.class || c == Boolean.class) return "boolean";
        if (c == int.class || c == Integer.class || c == long.class || c == Long.class) return "integer";
        if (c == double.class || c == Double.class) return "number";
        if (List.class.isAssignableFrom(c)) return "list";
        if (c == java.nio.file.Path.class) return "path";
        return c.getSimpleName();
    }

    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** The documented facts of an option, from its annotation when present. */
    record OptionMeta(boolean required, String defaultValue, boolean secret, String description) {
        static OptionMeta of(RecordComponent rc) {
            dev.ublkgateway.api.ConfigOption o = rc.getAnnotation(dev.ublkgateway.api.ConfigOption.class);
            return o == null ? new OptionMeta(false, "", false, "")
                    : new OptionMeta(o.required(), o.defaultValue(), o.secret(), o.description());
        }
    }
}
