package dev.ublkgateway.core.plugins;

import org.pf4j.Plugin;
import org.pf4j.PluginFactory;
import org.pf4j.PluginWrapper;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * Creates plugin instances as PF4J's DefaultPluginFactory does, but keeps, per plugin id, the exception
 * of a plugin class that cannot be created (its constructor or static initializer threw, it is missing
 * or no Plugin). PF4J's factory logs that exception and returns null, after which starting the plugin
 * fails with a NullPointerException that says nothing about the plugin.
 */
final class ReportingPluginFactory implements PluginFactory {
    private final Map<String, Throwable> failures = new HashMap<>();

    @Override
    public Plugin create(PluginWrapper w) {
        String name = w.getDescriptor().getPluginClass();
        try {
            Class<?> c = w.getPluginClassLoader().loadClass(name);
            if (Modifier.isAbstract(c.getModifiers()) || !Plugin.class.isAssignableFrom(c)) {
                throw new IllegalStateException("its Plugin-Class " + name + " is not a concrete subclass of org.pf4j.Plugin");
            }
            try {
                return (Plugin) c.getConstructor(PluginWrapper.class).newInstance(w);
            } catch (NoSuchMethodException e) {
                return (Plugin) c.getConstructor().newInstance();
            }
        } catch (InvocationTargetException e) {
            failures.put(w.getPluginId(), e.getCause());
        } catch (ExceptionInInitializerError e) {
            failures.put(w.getPluginId(), e.getCause() != null ? e.getCause() : e);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            failures.put(w.getPluginId(), e);
        }
        return null;
    }

    /** Why the plugin with this id could not be created, or null. */
    Throwable failure(String pluginId) {
        return failures.get(pluginId);
    }
}
