package dev.ublkgateway.core.chain;

/**
 * Marks a built-in stage that passes every byte through unchanged (it counts, delays or refuses
 * requests), so the target's holes are still holes above it. Stages without it (a cipher, a plugin's
 * stage) may change data: a hole below reads as something else above, so nothing is reported as one.
 */
public interface KeepsData {}
