package dev.ublkgateway.core.config;

/**
 * The config of a component whose secret is not available where the file is checked
 * ({@link ConfigLoader#check}): its own record, which may check the secret, is only built where the
 * gateway runs. Never served.
 */
public record SecretNotHere(String type) {}
