package dev.ublkgateway.core.stages;

/** The stats stage has no options. */
public record StatsConfig() {
}
