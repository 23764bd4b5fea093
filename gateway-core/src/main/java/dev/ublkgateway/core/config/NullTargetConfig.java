package dev.ublkgateway.core.config;

/** Options of target type {@code null} (reads return zeros, writes are discarded): none. */
public record NullTargetConfig() {}
