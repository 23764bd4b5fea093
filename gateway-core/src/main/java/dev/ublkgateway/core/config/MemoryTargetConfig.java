package dev.ublkgateway.core.config;

/** Options of target type {@code memory} (a RAM disk of the device size): none. */
public record MemoryTargetConfig() {}
