package dev.ublkgateway.api;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;

/** Support for configuration records (see {@link ConfigOption}). */
public final class ConfigRecords {

    private ConfigRecords() {}

    /**
     * The record as its generated {@code toString()} shows it ({@code Name[a=1, b=x]}), except that
     * a component marked {@link ConfigOption#secret()} shows {@code ***} when it is set: what a
     * record with a secret returns from its own {@code toString()}.
     *
     * <pre>
     * &#64;Override
     * public String toString() {
     *     return ConfigRecords.redactedToString(this);
     * }
     * </pre>
     */
    public static String redactedToString(Record config) {
        StringBuilder sb = new StringBuilder(config.getClass().getSimpleName()).append('[');
        RecordComponent[] components = config.getClass().getRecordComponents();
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            Object value = value(config, c.getAccessor());
            ConfigOption option = c.getAnnotation(ConfigOption.class);
            boolean hidden = value != null && option != null && option.secret();
            sb.append(i == 0 ? "" : ", ").append(c.getName()).append('=').append(hidden ? "***" : value);
        }
        return sb.append(']').toString();
    }

    private static Object value(Record config, Method accessor) {
        try {
            accessor.setAccessible(true); // the record need not be public
            return accessor.invoke(config);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("accessor " + accessor.getName() + " of " + config.getClass().getName()
                    + " failed", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + accessor.getName() + " of " + config.getClass().getName(), e);
        }
    }
}
