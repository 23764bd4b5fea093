package dev.ublkgateway.api;

import org.pf4j.ExtensionPoint;

import java.io.IOException;

/**
 * Extension point for targets: where a device's data ends up. Configuration works as for
 * {@link StageProvider}.
 *
 * @param <C> the target's configuration record
 */
public interface TargetProvider<C extends Record> extends ExtensionPoint {
    /** The target type as written in YAML; unique across all plugins. */
    String name();

    /** One line for {@code plugins list}/{@code plugins info}. */
    String description();

    /** The record the target's YAML options bind to. */
    Class<C> configType();

    /**
     * Opens the target for one device. {@code recovering} is true when a new gateway re-attaches to a
     * device whose previous gateway died: existing data must be kept.
     */
    Target open(C config, DeviceDescriptor device, boolean recovering) throws IOException;

    /**
     * Opens the target with what the gateway offers through {@code context}: the codecs and stores its
     * {@link Nested} options name. The gateway calls this one; the default ignores {@code context}.
     * (Since API 1.4.)
     */
    default Target open(C config, DeviceDescriptor device, boolean recovering, ProviderContext context) throws IOException {
        return open(config, device, recovering);
    }

    /**
     * The volume {@code name} of this target type, configured by {@code config}, for operations that run
     * while no gateway serves it ({@code ublk-gateway volume}), or null when the target keeps no volumes
     * of its own (the default). Nothing is read or created until a method of the {@link Volume} is called.
     * (Since API 1.6.)
     */
    default Volume volume(C config, String name, ProviderContext context) throws IOException {
        return null;
    }
}
