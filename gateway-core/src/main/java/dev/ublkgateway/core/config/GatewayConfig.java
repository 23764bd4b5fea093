package dev.ublkgateway.core.config;

import dev.ublkgateway.core.log.LogLevel;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A loaded configuration file.
 *
 * @param source the file, absolute and normalized
 * @param devices the devices in file order; names are unique
 * @param metricsListen where to serve metrics (HOST:PORT, checked), or null for no endpoint
 * @param logLevel the file's {@code log-level:}, which `up --log-level` overrides
 */
public record GatewayConfig(Path source, List<DeviceConfig> devices, String metricsListen, Optional<LogLevel> logLevel) {

    public GatewayConfig(Path source, List<DeviceConfig> devices) {
        this(source, devices, null, Optional.empty());
    }

    public GatewayConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(logLevel, "logLevel");
        devices = List.copyOf(devices);
        Set<String> names = new HashSet<>();
        for (DeviceConfig d : devices) {
            if (!names.add(d.name())) {
                throw new IllegalArgumentException("duplicate device name \"" + d.name() + "\"");
            }
        }
    }

    public Optional<DeviceConfig> device(String name) {
        return devices.stream().filter(d -> d.name().equals(name)).findFirst();
    }
}
